import { type Subscription, reportError } from '@ballast/core';
import type { Gauge } from 'prom-client';
import type { MetricsRegistry } from '../metrics-registry.js';

/** One SLO's state, as the `@ballast/slo` engine reports it (structural: no runtime dependency). */
export interface SloStatusLike {
  readonly slo: string;
  readonly service: string;
  readonly objective: number;
  readonly sli: number | null;
  readonly errorBudget: {
    readonly total: number;
    readonly consumed: number;
    readonly remainingRatio: number;
    readonly remainingEvents: number;
  };
  readonly burnRates: readonly {
    readonly window: string;
    readonly rate: number;
    readonly sli: number | null;
  }[];
  readonly alerts: readonly {
    readonly name: string;
    readonly severity: 'page' | 'ticket';
    readonly firing: boolean;
    readonly burnRate: number;
    readonly longWindow: string;
    readonly shortWindow: string;
  }[];
  readonly timeToExhaustionMs: number | null;
  readonly policy: 'ok' | 'warning' | 'exhausted';
}

/** Anything that can report the status of all its SLOs (the `@ballast/slo` engine). */
export interface SloStatusSource {
  statusAll(): readonly SloStatusLike[];
}

const DRIVER = 'ballast_slo_objective_ratio';
const GAUGES = [
  'ballast_slo_error_budget_remaining_ratio',
  'ballast_slo_error_budget_remaining_events',
  'ballast_slo_burn_rate',
  'ballast_slo_sli_ratio',
  'ballast_slo_alert_firing',
  'ballast_slo_time_to_exhaustion_seconds',
  'ballast_slo_policy_state',
] as const;
const POLICY_STATES = ['ok', 'warning', 'exhausted'] as const;
const SEVERITIES = ['page', 'ticket'] as const;
const sources = new WeakMap<MetricsRegistry, Set<SloStatusSource>>();

/**
 * Publishes SLO state at scrape time: `ballast_slo_error_budget_remaining_ratio{slo,service}`,
 * `ballast_slo_burn_rate{slo,service,window}`, `ballast_slo_sli_ratio{slo,service,window}`,
 * `ballast_slo_alert_firing{slo,service,severity}`, plus objective, remaining events, time to exhaustion and the
 * error-budget policy state. `statusAll()` is called once per scrape per source (one gauge collects, the others
 * are filled from the same snapshot).
 *
 * @example
 * ```ts
 * import { observeSlos } from '@ballast/telemetry';
 * observeSlos(metrics, sloEngine);
 * ```
 */
export function observeSlos(metrics: MetricsRegistry, source: SloStatusSource): Subscription {
  let set = sources.get(metrics);
  if (!set) {
    const all = new Set<SloStatusSource>();
    set = all;
    sources.set(metrics, all);
    // The collecting gauge is registered first, so it is rendered (and fills the others) before them.
    let gauges: Gauge[] = [];
    metrics.onCollect(DRIVER, (objective) => {
      for (const gauge of gauges) gauge.reset();
      for (const src of all) {
        let statuses: readonly SloStatusLike[];
        try {
          statuses = src.statusAll();
        } catch (error) {
          reportError(error, 'collecting SLO status');
          continue;
        }
        for (const status of statuses) publish(status, objective, gauges);
      }
    });
    gauges = GAUGES.map((name) => metrics.gauge(name));
  }
  const all = set;
  all.add(source);
  return { dispose: () => void all.delete(source) };
}

function publish(status: SloStatusLike, objective: Gauge, gauges: Gauge[]): void {
  const [remainingRatio, remainingEvents, burnRate, sliRatio, alertFiring, exhaustion, policyState] =
    gauges as [Gauge, Gauge, Gauge, Gauge, Gauge, Gauge, Gauge];
  const labels = { slo: status.slo, service: status.service };
  objective.set(labels, status.objective);
  remainingRatio.set(labels, status.errorBudget.remainingRatio);
  remainingEvents.set(labels, status.errorBudget.remainingEvents);
  if (status.sli !== null) sliRatio.set({ ...labels, window: 'slo' }, status.sli);
  for (const burn of status.burnRates) {
    burnRate.set({ ...labels, window: burn.window }, burn.rate);
    if (burn.sli !== null) sliRatio.set({ ...labels, window: burn.window }, burn.sli);
  }
  for (const severity of SEVERITIES) {
    const firing = status.alerts.some((a) => a.severity === severity && a.firing);
    alertFiring.set({ ...labels, severity }, firing ? 1 : 0);
  }
  if (status.timeToExhaustionMs !== null && Number.isFinite(status.timeToExhaustionMs)) {
    exhaustion.set(labels, status.timeToExhaustionMs / 1000);
  }
  for (const state of POLICY_STATES) policyState.set({ ...labels, state }, state === status.policy ? 1 : 0);
}
