import type { Severity, Slo } from '../model.js';

/**
 * Names of the series and alerts that {@link generateRules} writes, in one place so the rules, the promtool tests,
 * the Prometheus backend and RetailFlow's runbooks agree.
 */

function pascal(text: string): string {
  return text
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/**
 * The name of an SLO's burn-rate alert: `<Service><Slo>BurnRatePage` or `<Service><Slo>BurnRateTicket`, with
 * the service and SLO names in PascalCase (`checkout` + `checkout-availability` →
 * `CheckoutCheckoutAvailabilityBurnRatePage`). When the SLO name already starts with the service name, the
 * service is not repeated (`CheckoutAvailabilityBurnRatePage`). Runbooks are named after it:
 * `runbooks/<AlertName>.md`.
 *
 * @example
 * ```ts
 * import { burnRateAlertName } from '@ballast/slo';
 * burnRateAlertName({ service: 'payments', name: 'charge-latency' }, 'ticket'); // 'PaymentsChargeLatencyBurnRateTicket'
 * ```
 */
export function burnRateAlertName(slo: Pick<Slo, 'service' | 'name'>, severity: Severity): string {
  const service = pascal(slo.service);
  const name = pascal(slo.name);
  const stem = name.startsWith(service) ? name : `${service}${name}`;
  return `${stem}BurnRate${severity === 'page' ? 'Page' : 'Ticket'}`;
}

/**
 * The selector of the recorded error ratio over `window`: `slo:sli_error:ratio{window="<window>"}`, with `labels`
 * (usually `slo` and `service`) before the window. One rule records every alert window of an SLO under the
 * `window` label. The value is bad events / all events (or bad slices / slices with events for `Timeslices`
 * budgeting) over the window, held to the history Prometheus has: while the recorded history is shorter than the
 * window, the part of the window before it counts as good traffic (the ratio is scaled by history / window), as
 * the alerts judge it.
 *
 * @example
 * ```ts
 * import { errorRatioSelector } from '@ballast/slo';
 * errorRatioSelector('1h', { slo: 'checkout-availability' }); // 'slo:sli_error:ratio{slo="checkout-availability",window="1h"}'
 * ```
 */
export function errorRatioSelector(window: string, labels: Readonly<Record<string, string>> = {}): string {
  const matchers = Object.entries({ ...labels, window }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${SLO_RECORDS.errorRatio}{${matchers.join(',')}}`;
}

/**
 * Recording rule names other than the error ratios. Every series carries the labels `slo` and `service` (and the
 * SLO's own labels).
 *
 * - `errorRatio`: the error ratio over every alert window, labelled `window` (see {@link errorRatioSelector}).
 * - `badRate` / `totalRate`: per-second rates of bad and of all events over 5m, the base of the long windows and
 *   of the period ratio.
 * - `totalRateByWindow`: the per-second rate of all events over every alert window, labelled `window`, recorded
 *   only for the low-traffic guard.
 * - `timesliceError` / `timesliceBad`: for `Timeslices` budgeting, the error ratio of the trailing slice and
 *   whether that slice is bad (1) or good (0).
 * - `historyStart` / `history`: when the SLO's recorded history began (its 5m rates recorded without a gap of
 *   more than an hour) and how long ago that was, in seconds. A window longer than the history is judged as if
 *   the missing part had been good traffic at the rate seen so far, so a young or restarted Prometheus does not
 *   page on a blip.
 * - `alertHistoryCoverage`: the history over the longest alert window, at most 1. Below 1 the alerts are held to
 *   that share of their windows: on-call reads it as "insufficient history".
 * - metadata: the objective, the error budget (1 - objective), the period in seconds, `periodErrorRatio` (the
 *   traffic-weighted error ratio over the period, from the recorded 5m rates), the burn rate over the
 *   period, the share of the error budget left, and `periodCoverage`, the share of the period the recorded
 *   history covers (below 1 on a young Prometheus or one whose retention is shorter than the period: the period
 *   figures then speak only of that share).
 *
 * @example
 * ```ts
 * import { SLO_RECORDS } from '@ballast/slo';
 * SLO_RECORDS.objective; // 'slo:objective:ratio'
 * ```
 */
export const SLO_RECORDS = {
  errorRatio: 'slo:sli_error:ratio',
  badRate: 'slo:sli_bad:rate5m',
  totalRate: 'slo:sli_total:rate5m',
  totalRateByWindow: 'slo:sli_total:rate',
  timesliceError: (window: string): string => `slo:timeslice_error:ratio_rate${window}`,
  timesliceBad: 'slo:timeslice_bad:bool',
  objective: 'slo:objective:ratio',
  errorBudget: 'slo:error_budget:ratio',
  period: 'slo:period:seconds',
  periodErrorRatio: 'slo:period_error:ratio',
  periodBurnRate: 'slo:period_burn_rate:ratio',
  budgetRemaining: 'slo:period_error_budget_remaining:ratio',
  historyStart: 'slo:history_start:timestamp',
  history: 'slo:history:seconds',
  alertHistoryCoverage: 'slo:alert_history_coverage:ratio',
  periodCoverage: 'slo:period_coverage:ratio',
} as const;
