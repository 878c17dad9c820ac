import { budgetPolicyState, type ResolvedBudgetPolicy } from '../budget-policy.js';
import type { BurnRateCondition, Slo } from '../model.js';
import type { AlertStatus, BurnRate, SloStatus } from './status.js';

// The arithmetic the in-process engine and the Prometheus backend share, so the two report the same status from
// the same counts by construction.

/** Good and bad units in a window (events, or slices for Timeslices budgeting), and the raw event counts. */
export interface WindowUnits {
  readonly good: number;
  readonly bad: number;
  readonly goodEvents: number;
  readonly badEvents: number;
}

/** The burn rate of a window: its error ratio over the SLO's error budget ratio. */
export function burnRate(window: string, windowMs: number, u: WindowUnits, errorRatio: number): BurnRate {
  const total = u.good + u.bad;
  return {
    window,
    windowMs,
    rate: total > 0 ? u.bad / total / errorRatio : 0,
    sli: total > 0 ? u.good / total : null,
    events: u.goodEvents + u.badEvents,
  };
}

/** A multi-window condition fires when both windows burn faster than the threshold and both saw enough events. */
export function conditionFires(
  long: BurnRate,
  short: BurnRate,
  threshold: number,
  minEvents: number,
): boolean {
  return (
    long.rate > threshold && short.rate > threshold && long.events >= minEvents && short.events >= minEvents
  );
}

/** The status of one alert condition from its two windows' burn rates (the engine and the backend both build it). */
export function alertStatus(
  condition: BurnRateCondition,
  long: BurnRate,
  short: BurnRate,
  firing: boolean,
  since: number | null,
): AlertStatus {
  return {
    name: condition.name,
    severity: condition.severity,
    firing,
    burnRate: long.rate,
    shortBurnRate: short.rate,
    threshold: condition.burnRate,
    longWindow: condition.longWindow,
    shortWindow: condition.shortWindow,
    since,
  };
}

/** What {@link assembleStatus} needs. */
export interface StatusInput {
  readonly slo: Slo;
  readonly now: number;
  readonly period: { readonly start: number; readonly end: number; readonly length: number };
  /** Units over the period so far. */
  readonly units: WindowUnits;
  /** The error budget of the whole period, in units. */
  readonly budgetTotal: number;
  readonly burnRates: BurnRate[];
  readonly alerts: AlertStatus[];
  /** The burn rate time to exhaustion extrapolates (the shortest long window's). */
  readonly referenceRate: number;
  readonly policy: ResolvedBudgetPolicy;
}

/** The budget left as a fraction of the whole budget (negative when overspent). */
export function remainingRatio(bad: number, budgetTotal: number): number {
  return 1 - (budgetTotal > 0 ? bad / budgetTotal : 0);
}

/**
 * Builds the status from counted units: SLI, error budget, time to exhaustion at the reference burn rate (none
 * when nothing burns, or when a calendar period ends before the budget would), and the budget policy state.
 */
export function assembleStatus(input: StatusInput): SloStatus {
  const { slo, now, period, units: u, budgetTotal } = input;
  const consumedRatio = budgetTotal > 0 ? u.bad / budgetTotal : 0;
  const remaining = 1 - consumedRatio;
  let timeToExhaustionMs: number | null = null;
  if (remaining <= 0) timeToExhaustionMs = u.bad > 0 ? 0 : null;
  else if (input.referenceRate > 0) {
    timeToExhaustionMs = (remaining * period.length) / input.referenceRate;
    if (slo.timeWindow.kind === 'calendar' && now + timeToExhaustionMs > period.end)
      timeToExhaustionMs = null;
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
      remainingRatio: remaining,
      remainingEvents: budgetTotal - u.bad,
    },
    burnRates: input.burnRates,
    alerts: input.alerts,
    timeToExhaustionMs,
    policy: budgetPolicyState(remaining, input.policy),
  };
}
