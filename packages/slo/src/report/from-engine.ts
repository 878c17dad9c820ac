import { checkNumber, invalidOption, ManualClock } from '@ballast/core';
import type { BudgetPolicy } from '../budget-policy.js';
import { SloEngine } from '../engine/engine.js';
import type { SloAlertEvent } from '../engine/status.js';
import type { Slo } from '../model.js';
import { mergeAlerts, type ConditionFiring } from './alerts.js';
import type { ReportPoint, SloReport } from './model.js';

/**
 * Counts of good and bad events of one SLO at one time, as replayed into the engine.
 *
 * @example
 * ```ts
 * const event: ReportEvent = { at: Date.UTC(2026, 0, 3, 14, 5), slo: 'checkout-availability', good: 120, bad: 3 };
 * ```
 */
export interface ReportEvent {
  readonly at: number;
  readonly slo: string;
  readonly good: number;
  readonly bad: number;
}

/**
 * Options of {@link engineReport}.
 *
 * @example
 * ```ts
 * const options: EngineReportOptions = { title: 'Shop SLOs, January', at: Date.UTC(2026, 1, 1), points: 60 };
 * ```
 */
export interface EngineReportOptions {
  /** @default 'SLO report' */
  readonly title?: string;
  /** The report's time (epoch ms); later events are ignored. @default the last event's time */
  readonly at?: number;
  /** Points per history chart. @default 48 */
  readonly points?: number;
  /** @default { warning: 0.25, exhausted: 0 } */
  readonly budgetPolicy?: BudgetPolicy;
}

/**
 * Builds a report by replaying `events` into an in-process {@link SloEngine} on a manual clock: the statuses at
 * `at`, the SLI and budget left at `points` times across each SLO's period (from the first event on), and every
 * alert that started or stopped during the replay (the engine evaluates after each event and at each point).
 *
 * @example
 * ```ts
 * import { engineReport, renderHtmlReport } from '@ballast/slo';
 * const report = engineReport(slos, events, { title: 'Shop SLOs' });
 * writeFileSync('report.html', renderHtmlReport(report));
 * ```
 */
export function engineReport(
  slos: readonly Slo[],
  events: readonly ReportEvent[],
  options: EngineReportOptions = {},
): SloReport {
  const points = checkNumber('points', options.points, 48, { integer: true, min: 2 });
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const at = options.at ?? sorted.at(-1)?.at;
  if (at === undefined || !Number.isFinite(at)) {
    throw invalidOption('at', 'a time (epoch ms) when there are no events', options.at);
  }
  const first = Math.min(sorted[0]?.at ?? at, at);
  const clock = new ManualClock(first);
  const engine = new SloEngine({
    slos,
    clock,
    evaluateEveryMs: 0,
    ...(options.budgetPolicy === undefined ? {} : { budgetPolicy: options.budgetPolicy }),
  });
  const alerts = new Map<string, ConditionFiring[]>(slos.map((s) => [s.name, []]));
  engine.onAlert((e: SloAlertEvent) => {
    const list = alerts.get(e.slo)!;
    if (e.firing) list.push({ name: e.alert, severity: e.severity, start: e.at, end: null });
    else {
      const open = list.findLast((a) => a.name === e.alert && a.end === null);
      if (open) list[list.indexOf(open)] = { ...open, end: e.at };
    }
  });
  const samples = Array.from({ length: points }, (_, i) => first + ((at - first) * i) / (points - 1));
  const history = new Map<string, ReportPoint[]>(slos.map((s) => [s.name, []]));
  let next = 0;
  const sampleUntil = (t: number): void => {
    while (next < samples.length && samples[next]! <= t) {
      clock.set(samples[next]!);
      for (const status of engine.statusAll()) {
        history.get(status.slo)!.push({
          at: status.at,
          sli: status.sli,
          budgetRemaining: status.errorBudget.remainingRatio,
        });
      }
      next++;
    }
  };
  for (const e of sorted) {
    if (e.at > at) break;
    sampleUntil(e.at - 1);
    clock.set(Math.max(clock.now(), e.at));
    engine.record(e.slo, e.good, e.bad);
    engine.evaluate();
  }
  sampleUntil(at);
  clock.set(at);
  const statuses = engine.statusAll();
  engine.close();
  return {
    title: options.title ?? 'SLO report',
    at,
    source: 'the in-process engine (events replayed)',
    entries: statuses.map((status, i) => ({
      slo: slos[i]!,
      status,
      history: history.get(status.slo)!.filter((p) => p.at >= status.period.start),
      alerts: mergeAlerts(
        slos[i]!,
        alerts.get(status.slo)!.filter((a) => (a.end ?? at) >= status.period.start),
      ),
    })),
  };
}
