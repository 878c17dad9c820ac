import { invalidOption, systemClock, type Clock } from '@ballast/core';
import {
  resolveBudgetPolicy,
  budgetPolicyState,
  type BudgetPolicy,
  type ResolvedBudgetPolicy,
} from '../budget-policy.js';
import { formatDuration } from '../duration.js';
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

/** One point of an SLO's history, for charts. */
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
  invalidOption('slo', `one of ${known.map((k) => `\`${k}\``).join(', ')}`, name);

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

  async #since(slo: Slo, q: SloQueries, c: BurnRateCondition, now: number): Promise<number> {
    // When did the condition start holding? Evaluate it over the last long window at 1/60 of that window.
    const threshold = `(${promNumber(c.burnRate)} * ${promNumber(1 - slo.objective)})`;
    const ratio = (w: string): string => `(${q.bad(w)}) / (${q.total(w)})`;
    const expr = `(${ratio(c.longWindow)} > bool ${threshold}) * (${ratio(c.shortWindow)} > bool ${threshold})`;
    const step = Math.max(1000, Math.round(c.longWindowMs / 60 / 1000) * 1000);
    const [series] = await this.#client.queryRange(expr, now - c.longWindowMs, now, step);
    let since = now;
    for (const [t, v] of [...(series?.points ?? [])].reverse()) {
      if (v !== 1) break;
      since = t;
    }
    return since;
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
    const burn = (window: string, windowMs: number, x: Units): BurnRate => {
      const total = x.good + x.bad;
      return {
        window,
        windowMs,
        rate: total > 0 ? x.bad / total / errorRatio : 0,
        sli: total > 0 ? x.good / total : null,
        events: x.goodEvents + x.badEvents,
      };
    };
    const burnRates = sorted.map(([ms, w], i) => burn(w, ms, windowUnits[i]!));
    const byMs = new Map(burnRates.map((b) => [b.windowMs, b]));
    const budgetTotal = this.#budgetTotal(slo, u, period, now);
    const consumedRatio = budgetTotal > 0 ? u.bad / budgetTotal : 0;
    const remainingRatio = 1 - consumedRatio;
    const minEvents = slo.alerting.minEvents;
    const alerts: AlertStatus[] = await Promise.all(
      slo.alerting.conditions.map(async (c) => {
        const long = byMs.get(c.longWindowMs)!;
        const short = byMs.get(c.shortWindowMs)!;
        const firing =
          long.rate > c.burnRate &&
          short.rate > c.burnRate &&
          long.events >= minEvents &&
          short.events >= minEvents;
        return {
          name: c.name,
          severity: c.severity,
          firing,
          burnRate: long.rate,
          shortBurnRate: short.rate,
          threshold: c.burnRate,
          longWindow: c.longWindow,
          shortWindow: c.shortWindow,
          since: firing ? await this.#since(slo, q, c, now) : null,
        };
      }),
    );
    let timeToExhaustionMs: number | null = null;
    if (remainingRatio <= 0) timeToExhaustionMs = u.bad > 0 ? 0 : null;
    else {
      const ref = byMs.get(tteMs)?.rate ?? burn('', tteMs, await this.#units(slo, q, tteMs, now)).rate;
      if (ref > 0) {
        timeToExhaustionMs = (remainingRatio * period.length) / ref;
        if (slo.timeWindow.kind === 'calendar' && now + timeToExhaustionMs > period.end)
          timeToExhaustionMs = null;
      }
    }
    return {
      slo: slo.name,
      service: slo.service,
      displayName: slo.displayName,
      objective: slo.objective,
      at: now,
      period: {
        start: period.start,
        end: period.end,
        window:
          slo.timeWindow.kind === 'rolling'
            ? slo.timeWindow.duration
            : `${slo.timeWindow.duration} ${slo.timeWindow.timeZone}`,
      },
      sli: u.good + u.bad > 0 ? u.good / (u.good + u.bad) : null,
      events: { good: u.goodEvents, bad: u.badEvents },
      errorBudget: {
        total: budgetTotal,
        consumed: u.bad,
        consumedRatio,
        remainingRatio,
        remainingEvents: budgetTotal - u.bad,
      },
      burnRates,
      alerts,
      timeToExhaustionMs,
      policy: budgetPolicyState(remainingRatio, this.#policy),
    };
  }

  /** The status of every SLO, in the order given. */
  async statusAll(): Promise<SloStatus[]> {
    const out: SloStatus[] = [];
    for (const slo of this.#slos.keys()) out.push(await this.status(slo));
    return out;
  }

  /**
   * The SLI and the share of the error budget left at `points` evenly spaced times from the start of the current
   * period (or one rolling window ago) to now, for burn-down charts. Rolling windows use one range query
   * (`/api/v1/query_range`) per count; calendar periods, whose window grows through the period, one instant query
   * per point.
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
    const times = Array.from({ length: points }, (_, i) => Math.min(now, start + i * step));
    const point = (at: number, u: Units): SloHistoryPoint => {
      const p = this.#period(slo, at);
      const total = this.#budgetTotal(slo, u, p, at);
      return {
        at,
        sli: u.good + u.bad > 0 ? u.good / (u.good + u.bad) : null,
        budgetRemaining: total > 0 ? 1 - u.bad / total : 1,
      };
    };
    if (slo.timeWindow.kind === 'rolling' && slo.budgeting.method !== 'Timeslices') {
      const w = slo.timeWindow.duration;
      const seconds = promNumber(slo.timeWindow.durationMs / 1000);
      const [totals, bads] = await Promise.all([
        this.#client.queryRange(`(${q.total(w)}) * ${seconds}`, start, start + step * (points - 1), step),
        this.#client.queryRange(`(${q.bad(w)}) * ${seconds}`, start, start + step * (points - 1), step),
      ]);
      const sumAt = (series: typeof totals): Map<number, number> => {
        const m = new Map<number, number>();
        for (const s of series)
          for (const [t, v] of s.points) if (Number.isFinite(v)) m.set(t, (m.get(t) ?? 0) + v);
        return m;
      };
      const t = sumAt(totals);
      const b = sumAt(bads);
      return times.map((at) => {
        const key = [...t.keys()].reduce(
          (best, k) => (Math.abs(k - at) < Math.abs(best - at) ? k : best),
          -Infinity,
        );
        const total = t.get(key) ?? 0;
        const bad = Math.max(0, b.get(key) ?? 0);
        const good = Math.max(0, total - bad);
        return point(at, { good, bad, goodEvents: good, badEvents: bad });
      });
    }
    return Promise.all(
      times.map(async (at) => point(at, await this.#units(slo, q, at - this.#period(slo, at).start, at))),
    );
  }
}
