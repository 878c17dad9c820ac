import type { Severity } from '../model.js';
import type { BudgetPolicyState } from '../budget-policy.js';

/**
 * The error budget of one SLO over its current period. Units are events (or slices with `Timeslices`).
 * While the period is not yet fully observed (a calendar period that started recently, or an engine that started
 * less than a rolling window ago), the budget is sized for the traffic projected over the whole period from the
 * traffic seen so far: the Workbook's arithmetic ("14.4× for an hour spends 2%") holds from the first hour.
 * @example
 * ```ts
 * const { remainingRatio, remainingEvents } = engine.status('checkout-availability').errorBudget;
 * ```
 */
export interface ErrorBudget {
  /** Bad events the period may hold: (1 - objective) × (projected) events in the period. */
  readonly total: number;
  /** Bad events so far in the period. */
  readonly consumed: number;
  /** consumed / total (0 when total is 0); above 1 once overspent. */
  readonly consumedRatio: number;
  /** 1 - consumedRatio; negative once overspent. */
  readonly remainingRatio: number;
  /** total - consumed; negative once overspent. */
  readonly remainingEvents: number;
}

/**
 * The burn rate over one window: the window's error ratio divided by the budget's error ratio (1 - objective).
 * @example
 * ```ts
 * const hour = engine.status('checkout-availability').burnRates.find((b) => b.window === '1h');
 * ```
 */
export interface BurnRate {
  /** Prometheus duration of the window (`1h`). */
  readonly window: string;
  readonly windowMs: number;
  /** 0 when the window holds no events. */
  readonly rate: number;
  /** Good / total over the window (slices with `Timeslices`); `null` without events. */
  readonly sli: number | null;
  /** Events in the window (what the low-traffic guard counts). */
  readonly events: number;
}

/**
 * The state of one alert condition.
 * @example
 * ```ts
 * const paging = engine.status('checkout-availability').alerts.filter((a) => a.firing && a.severity === 'page');
 * ```
 */
export interface AlertStatus {
  readonly name: string;
  readonly severity: Severity;
  readonly firing: boolean;
  /** The current burn rate over the long window. */
  readonly burnRate: number;
  /** The current burn rate over the short window. */
  readonly shortBurnRate: number;
  /** The condition's threshold: fires while both burn rates are above it. */
  readonly threshold: number;
  readonly longWindow: string;
  readonly shortWindow: string;
  /** When it started firing (epoch ms), `null` while not firing. */
  readonly since: number | null;
}

/**
 * Everything the engine knows about one SLO at one instant.
 *
 * @example
 * ```ts
 * const s = engine.status('checkout-availability');
 * if (s.policy === 'exhausted') freezeDeploys();
 * ```
 */
export interface SloStatus {
  readonly slo: string;
  readonly service: string;
  readonly displayName: string;
  readonly objective: number;
  /** When this status was computed (epoch ms, engine clock). */
  readonly at: number;
  /** The period the budget covers: `[now - window, now]` for rolling windows, the calendar period otherwise. */
  readonly period: { readonly start: number; readonly end: number; readonly window: string };
  /** Good / total over the period (good slices / counted slices with `Timeslices`); `null` without events. */
  readonly sli: number | null;
  /** Events in the period. */
  readonly events: { readonly good: number; readonly bad: number };
  readonly errorBudget: ErrorBudget;
  /** Burn rates over every window an alert condition uses, shortest first. */
  readonly burnRates: readonly BurnRate[];
  readonly alerts: readonly AlertStatus[];
  /**
   * Milliseconds until the remaining budget is spent at the current burn rate (measured over the shortest long
   * window of the alert conditions, 1h for the 30-day defaults): 0 when already spent, `null` when nothing is
   * burning or (calendar windows) when the period ends first.
   */
  readonly timeToExhaustionMs: number | null;
  readonly policy: BudgetPolicyState;
}

/**
 * Emitted when an alert condition starts (`firing: true`) or stops (`firing: false`) firing; the burn rates are
 * those at the transition.
 *
 * @example
 * ```ts
 * engine.onAlert((e) => console.log(`${e.slo} ${e.alert} ${e.firing ? 'FIRING' : 'resolved'}`));
 * ```
 */
export interface SloAlertEvent extends Omit<AlertStatus, 'name' | 'since'> {
  readonly slo: string;
  readonly service: string;
  /** The condition name (`page-1h`). */
  readonly alert: string;
  /** Epoch ms of the transition (engine clock). */
  readonly at: number;
  /** For `firing: false`, how long it fired. */
  readonly durationMs?: number;
}
