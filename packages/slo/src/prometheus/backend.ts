import { invalidOption, systemClock, type Clock } from '@ballast/core';
import { resolveBudgetPolicy, type BudgetPolicy, type ResolvedBudgetPolicy } from '../budget-policy.js';
import { formatDuration } from '../duration.js';
import { alertStatus, assembleStatus, burnRate, conditionFires, remainingRatio } from '../engine/assemble.js';
import { calendarPeriod } from '../engine/calendar.js';
import type { AlertStatus, BurnRate, SloStatus } from '../engine/status.js';
import type { BurnRateCondition, Slo } from '../model.js';
import { promNumber } from '../rules/generate.js';
import { sloQueries, type SloQueries } from '../rules/queries.js';
import { PrometheusClient, type PrometheusClientOptions } from './client.js';

/**
 * Options of {@link PrometheusBackend}.
 *
 * @example
 * ```ts
 * const options: PrometheusBackendOptions = { url: 'http://prometheus:9090', clock: systemClock, budgetPolicy: { warning: 0.5 } };
 * ```
 */
export interface PrometheusBackendOptions extends PrometheusClientOptions {
  /** The time statuses are computed at. @default systemClock */
  readonly clock?: Clock;
  /** Error-budget policy thresholds, as for the engine. @default { warning: 0.25, exhausted: 0 } */
  readonly budgetPolicy?: BudgetPolicy;
  /**
   * Since when Prometheus holds the SLO's data (epoch ms). While the period is not fully covered, the error
   * budget is sized for the traffic projected over the whole period, exactly as the engine does from its start.
   * @default the start of each period (Prometheus holds the whole period)
   */
  readonly dataSince?: number;
}

/**
 * One point of an SLO's history, for charts.
 *
 * @example
 * ```ts
 * const points = await backend.history('checkout-availability', 30); // [{ at, sli: 0.9993, budgetRemaining: 0.81 }, ...]
 * ```
 */
export interface SloHistoryPoint {
  /** Epoch ms. */
  readonly at: number;
  /** Good / total from the period start (calendar) or over the rolling window, up to `at`; `null` without events. */
  readonly sli: number | null;
  /** Share of the period's error budget left at `at`. */
  readonly budgetRemaining: number;
}

interface Units {
  readonly good: number;
  readonly bad: number;
  readonly goodEvents: number;
  readonly badEvents: number;
}

const SLO_NOT_FOUND = (name: string, known: readonly string[]): TypeError =>
  invalidOption(
    'slo',
    known.length === 0
      ? 'the name of one of its SLOs (it has none)'
      : `one of ${known.map((k) => `\`${k}\``).join(', ')}`,
    name,
  );

/**
 * Computes the same {@link SloStatus} as the in-process engine from a real Prometheus, over its HTTP API: event
 * counts come from `increase` of the SLO's counters over the period and over each alert window, evaluated at the
 * clock's time, so calendar periods (a month in `Europe/Berlin`), which recording rules cannot express, are exact.
 * With `Timeslices`, slices are evaluated by a subquery with the slice length as step. The numbers match the
 * engine's for the same events up to Prometheus's extrapolation of `increase` at the window edges (at most about
 * one scrape interval of traffic per window).
 *
 * @example
 * ```ts
 * import { PrometheusBackend, loadSlos } from '@ballast/slo';
 * const backend = new PrometheusBackend(await loadSlos(['slos/']), { url: 'http://127.0.0.1:9090' });
 * const status = await backend.status('checkout-availability');
 * console.log(status.errorBudget.remainingRatio, status.alerts.filter((a) => a.firing));
 * ```
 */
export class PrometheusBackend {
  readonly #client: PrometheusClient;
  readonly #clock: Clock;
  readonly #policy: ResolvedBudgetPolicy;
  readonly #slos = new Map<string, { slo: Slo; queries: SloQueries }>();
  readonly #dataSince: number | undefined;

  constructor(slos: readonly Slo[], options: PrometheusBackendOptions) {
    const given: unknown = slos;
    if (!Array.isArray(given)) throw invalidOption('slos', 'an array of SLOs', given);
    this.#client = new PrometheusClient(options);
    this.#clock = options.clock ?? systemClock;
    this.#policy = resolveBudgetPolicy(options.budgetPolicy);
    this.#dataSince = options.dataSince;
    for (const slo of slos) {
      if (this.#slos.has(slo.name)) throw invalidOption('slos', 'SLOs with unique names', slo.name);
      this.#slos.set(slo.name, { slo, queries: sloQueries(slo) });
    }
  }

  /** The SLOs this backend reads, in the order given. */
  get slos(): readonly Slo[] {
    return [...this.#slos.values()].map((s) => s.slo);
  }

  #entry(name: string): { slo: Slo; queries: SloQueries } {
    const entry = this.#slos.get(name);
    if (!entry) throw SLO_NOT_FOUND(name, [...this.#slos.keys()]);
    return entry;
  }

  async #scalar(expr: string, at: number): Promise<number> {
    const samples = await this.#client.query(expr, at);
    let sum = 0;
    for (const s of samples) if (Number.isFinite(s.value)) sum += s.value;
    return sum;
  }

  /** Good and bad units (events, or slices) in `(at - ms, at]`, plus the events. */
  async #units(slo: Slo, q: SloQueries, ms: number, at: number): Promise<Units> {
    if (ms <= 0) return { good: 0, bad: 0, goodEvents: 0, badEvents: 0 };
    const w = formatDuration(ms);
    const seconds = promNumber(ms / 1000);
    const [total, bad] = await Promise.all([
      this.#scalar(`(${q.total(w)}) * ${seconds}`, at),
      this.#scalar(`(${q.bad(w)}) * ${seconds}`, at),
    ]);
    const badEvents = Math.max(0, bad);
    const goodEvents = Math.max(0, total - badEvents);
    if (slo.budgeting.method !== 'Timeslices')
      return { good: goodEvents, bad: badEvents, goodEvents, badEvents };
    const slice = slo.budgeting.timesliceWindow;
    // One flag per slice (subquery step = slice length): 1 bad, 0 good; slices without events drop out (NaN).
    const flag = `((${q.bad(slice)}) / (${q.total(slice)}) >= 0) > bool ${promNumber(1 - slo.budgeting.timesliceTarget)}`;
    const [badSlices, slices] = await Promise.all([
      this.#scalar(`sum_over_time((${flag})[${w}:${slice}])`, at),
      this.#scalar(`count_over_time((${flag})[${w}:${slice}])`, at),
    ]);
    return { good: slices - badSlices, bad: badSlices, goodEvents, badEvents };
  }

  #period(slo: Slo, now: number): { start: number; end: number; length: number } {
    const w = slo.timeWindow;
    if (w.kind === 'rolling') return { start: now - w.durationMs, end: now, length: w.durationMs };
    const p = calendarPeriod(now, w);
    return { start: p.start, end: p.end, length: p.end - p.start };
  }

  #budgetTotal(
    slo: Slo,
    units: Units,
    period: { start: number; end: number; length: number },
    now: number,
  ): number {
    const observedStart = Math.max(period.start, this.#dataSince ?? period.start);
    const elapsed = Math.max(Math.min(now, period.end) - observedStart, 1);
    let totalUnits: number;
    if (slo.budgeting.method === 'Timeslices') totalUnits = period.length / slo.budgeting.timesliceWindowMs;
    else {
      const seen = units.good + units.bad;
      totalUnits = elapsed >= period.length ? seen : (seen * period.length) / elapsed;
    }
    return (1 - slo.objective) * totalUnits;
  }

  /** 1 while the condition holds (both windows above the threshold), 0 otherwise. */
  #conditionExpr(slo: Slo, q: SloQueries, c: BurnRateCondition): string {
    const threshold = `(${promNumber(c.burnRate)} * ${promNumber(1 - slo.objective)})`;
    const ratio = (w: string): string => `(${q.bad(w)}) / (${q.total(w)})`;
    return `(${ratio(c.longWindow)} > bool ${threshold}) * (${ratio(c.shortWindow)} > bool ${threshold})`;
  }

  async #since(slo: Slo, q: SloQueries, c: BurnRateCondition, now: number): Promise<number> {
    // When did the condition start holding? Evaluate it over the last long window at 1/60 of that window.
    const step = Math.max(1000, Math.round(c.longWindowMs / 60 / 1000) * 1000);
    const [series] = await this.#client.queryRange(
      this.#conditionExpr(slo, q, c),
      now - c.longWindowMs,
      now,
      step,
    );
    let since = now;
    for (const [t, v] of [...(series?.points ?? [])].reverse()) {
      if (v !== 1) break;
      since = t;
    }
    return since;
  }

  /**
   * The alert conditions of one SLO that fired between `start` and `end` (epoch ms), from a range query of each
   * condition at `(end - start) / points` resolution (at least 1s): a firing shorter than a step can be missed
   * (about 86 minutes for 30 days at the default), and start and end are known to within a step. The low-traffic
   * guard is not applied here.
   *
   * @default points 500
   */
  async alertHistory(
    sloName: string,
    start: number,
    end: number,
    points = 500,
  ): Promise<{ name: string; severity: BurnRateCondition['severity']; start: number; end: number | null }[]> {
    const { slo, queries: q } = this.#entry(sloName);
    const out: {
      name: string;
      severity: BurnRateCondition['severity'];
      start: number;
      end: number | null;
    }[] = [];
    for (const c of slo.alerting.conditions) {
      const step = Math.max(1000, Math.ceil((end - start) / points / 1000) * 1000);
      const series = await this.#client.queryRange(this.#conditionExpr(slo, q, c), start, end, step);
      let open: number | undefined;
      let last = start;
      for (const [t, v] of series[0]?.points ?? []) {
        if (v === 1 && open === undefined) open = t;
        if (v !== 1 && open !== undefined) {
          out.push({ name: c.name, severity: c.severity, start: open, end: t });
          open = undefined;
        }
        last = t;
      }
      if (open !== undefined)
        out.push({ name: c.name, severity: c.severity, start: open, end: last >= end - step ? null : last });
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** The status of one SLO at the clock's time. */
  async status(sloName: string): Promise<SloStatus> {
    const { slo, queries: q } = this.#entry(sloName);
    const now = this.#clock.now();
    const period = this.#period(slo, now);
    const windows = new Map<number, string>();
    for (const c of slo.alerting.conditions) {
      windows.set(c.longWindowMs, c.longWindow);
      windows.set(c.shortWindowMs, c.shortWindow);
    }
    const longs = slo.alerting.conditions.map((c) => c.longWindowMs);
    const tteMs = longs.length > 0 ? Math.min(...longs) : 3_600_000;
    const sorted = [...windows].sort((a, b) => a[0] - b[0]);
    const [u, ...windowUnits] = await Promise.all([
      this.#units(slo, q, now - period.start, now),
      ...sorted.map(([ms]) => this.#units(slo, q, ms, now)),
    ]);
    const errorRatio = 1 - slo.objective;
    const burn = (window: string, windowMs: number, x: Units): BurnRate =>
      burnRate(window, windowMs, x, errorRatio);
    const burnRates = sorted.map(([ms, w], i) => burn(w, ms, windowUnits[i]!));
    const byMs = new Map(burnRates.map((b) => [b.windowMs, b]));
    const budgetTotal = this.#budgetTotal(slo, u, period, now);
    const remaining = remainingRatio(u.bad, budgetTotal);
    const minEvents = slo.alerting.minEvents;
    const alerts: AlertStatus[] = await Promise.all(
      slo.alerting.conditions.map(async (c) => {
        const long = byMs.get(c.longWindowMs)!;
        const short = byMs.get(c.shortWindowMs)!;
        const firing = conditionFires(long, short, c.burnRate, minEvents);
        return alertStatus(c, long, short, firing, firing ? await this.#since(slo, q, c, now) : null);
      }),
    );
    const referenceRate =
      remaining > 0
        ? (byMs.get(tteMs)?.rate ?? burn('', tteMs, await this.#units(slo, q, tteMs, now)).rate)
        : 0;
    return assembleStatus({
      slo,
      now,
      period,
      units: u,
      budgetTotal,
      burnRates,
      alerts,
      referenceRate,
      policy: this.#policy,
    });
  }

  /** The status of every SLO, in the order given. */
  async statusAll(): Promise<SloStatus[]> {
    const out: SloStatus[] = [];
    for (const slo of this.#slos.keys()) out.push(await this.status(slo));
    return out;
  }

  /**
   * The SLI and the share of the error budget left at `points` evenly spaced times from the start of the current
   * period (or one rolling window ago) to now, for burn-down charts. Rolling windows of events use one range
   * query (`/api/v1/query_range`) per count over the window; calendar periods, whose window grows through the
   * period, and time slices sum per-step counts from range queries: approximate, since Prometheus extrapolates
   * each step's `increase` at its edges (an error of about one scrape interval per step).
   *
   * @default points 48
   */
  async history(sloName: string, points = 48): Promise<SloHistoryPoint[]> {
    const { slo, queries: q } = this.#entry(sloName);
    if (!Number.isInteger(points) || points < 2) throw invalidOption('points', 'an integer >= 2', points);
    const now = this.#clock.now();
    const period = this.#period(slo, now);
    const start = Math.max(period.start, this.#dataSince ?? period.start);
    const step = Math.max(1000, Math.floor((now - start) / (points - 1)));
    const times = Array.from({ length: points - 1 }, (_, i) => Math.min(now, start + i * step));
    const point = (at: number, u: Units): SloHistoryPoint => {
      const p = this.#period(slo, at);
      const total = this.#budgetTotal(slo, u, p, at);
      return {
        at,
        sli: u.good + u.bad > 0 ? u.good / (u.good + u.bad) : null,
        budgetRemaining: total > 0 ? 1 - u.bad / total : 1,
      };
    };
    // The last point is now, from instant queries (exactly the status's numbers); the others come from the grid.
    const last = point(now, await this.#units(slo, q, now - this.#period(slo, now).start, now));
    if (slo.timeWindow.kind === 'rolling' && slo.budgeting.method !== 'Timeslices') {
      const w = slo.timeWindow.duration;
      const seconds = promNumber(slo.timeWindow.durationMs / 1000);
      const [totals, bads] = await Promise.all([
        this.#client.queryRange(`(${q.total(w)}) * ${seconds}`, start, start + step * (points - 2), step),
        this.#client.queryRange(`(${q.bad(w)}) * ${seconds}`, start, start + step * (points - 2), step),
      ]);
      const sumAt = (series: typeof totals): Map<number, number> => {
        const m = new Map<number, number>();
        for (const s of series)
          for (const [t, v] of s.points) if (Number.isFinite(v)) m.set(t, (m.get(t) ?? 0) + v);
        return m;
      };
      const t = sumAt(totals);
      const b = sumAt(bads);
      return [
        ...times.map((at) => {
          const key = [...t.keys()].reduce(
            (best, k) => (Math.abs(k - at) < Math.abs(best - at) ? k : best),
            -Infinity,
          );
          const total = t.get(key) ?? 0;
          const bad = Math.max(0, b.get(key) ?? 0);
          const good = Math.max(0, total - bad);
          return point(at, { good, bad, goodEvents: good, badEvents: bad });
        }),
        last,
      ];
    }
    // Calendar periods and time slices: one range query per count of the events (or slices) in each step,
    // summed client-side from the period start (calendar) or over the window (rolling), at the step's resolution.
    const sliceMs = slo.budgeting.method === 'Timeslices' ? slo.budgeting.timesliceWindowMs : 1000;
    const stepMs = Math.max(sliceMs, Math.round(step / sliceMs) * sliceMs);
    const windowMs = slo.timeWindow.kind === 'rolling' ? slo.timeWindow.durationMs : 0;
    const from = start - Math.ceil(windowMs / stepMs) * stepMs;
    const end = now;
    const stepDur = formatDuration(stepMs);
    const seconds = promNumber(stepMs / 1000);
    const sum = async (expr: string): Promise<Map<number, number>> => {
      const m = new Map<number, number>();
      for (const series of await this.#client.queryRange(expr, from, end, stepMs))
        for (const [t, v] of series.points) if (Number.isFinite(v)) m.set(t, (m.get(t) ?? 0) + v);
      return m;
    };
    const totals = await sum(`(${q.total(stepDur)}) * ${seconds}`);
    const bads = await sum(`(${q.bad(stepDur)}) * ${seconds}`);
    let badUnits = bads;
    let allUnits = totals;
    if (slo.budgeting.method === 'Timeslices') {
      const slice = slo.budgeting.timesliceWindow;
      const flag = `((${q.bad(slice)}) / (${q.total(slice)}) >= 0) > bool ${promNumber(1 - slo.budgeting.timesliceTarget)}`;
      badUnits = await sum(`sum_over_time((${flag})[${stepDur}:${slice}])`);
      allUnits = await sum(`count_over_time((${flag})[${stepDur}:${slice}])`);
    }
    const steps = [...new Set([...totals.keys(), ...allUnits.keys()])].sort((a, b) => a - b);
    const between = (m: Map<number, number>, lo: number, hi: number): number => {
      let total = 0;
      for (const t of steps) if (t > lo && t <= hi) total += m.get(t) ?? 0;
      return total;
    };
    return [
      ...times.map((at) => {
        const lo = windowMs > 0 ? at - windowMs : this.#period(slo, at).start;
        const totalEvents = between(totals, lo, at);
        const badEvents = Math.max(0, between(bads, lo, at));
        const goodEvents = Math.max(0, totalEvents - badEvents);
        const bad = slo.budgeting.method === 'Timeslices' ? between(badUnits, lo, at) : badEvents;
        const good = slo.budgeting.method === 'Timeslices' ? between(allUnits, lo, at) - bad : goodEvents;
        return point(at, { good, bad, goodEvents, badEvents });
      }),
      last,
    ];
  }
}
