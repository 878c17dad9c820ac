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
 * The recording rule name of the error ratio over `window`: `slo:sli_error:ratio_rate<window>`
 * (`slo:sli_error:ratio_rate5m`). The value is bad events / all events (or bad slices / slices with events for
 * `Timeslices` budgeting) over the window, labelled `slo` and `service`.
 *
 * @example
 * ```ts
 * import { errorRatioRecord } from '@ballast/slo';
 * errorRatioRecord('30d'); // 'slo:sli_error:ratio_rate30d'
 * ```
 */
export function errorRatioRecord(window: string): string {
  return `slo:sli_error:ratio_rate${window}`;
}

/**
 * Recording rule names other than the error ratios. Every series carries the labels `slo` and `service` (and the
 * SLO's own labels).
 *
 * - `badRate` / `totalRate`: per-second rates of bad and of all events over 5m, the base of the period ratio.
 * - `totalRateFor(w)`: the per-second rate of all events over `w`, recorded only for the low-traffic guard.
 * - `timesliceError` / `timesliceBad`: for `Timeslices` budgeting, the error ratio of the trailing slice and
 *   whether that slice is bad (1) or good (0).
 * - `historyStart` / `history`: when the SLO's recorded history began (its 5m rates recorded without a gap of
 *   more than an hour) and how long ago that was, in seconds. A window longer than the history is judged as if
 *   the missing part had been good traffic at the rate seen so far, so a young or restarted Prometheus does not
 *   page on a blip.
 * - `alertHistoryCoverage`: the history over the longest alert window, at most 1. Below 1 the alerts are held to
 *   that share of their windows: on-call reads it as "insufficient history".
 * - metadata: the objective, the error budget (1 - objective), the period in seconds, the burn rate over the
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
  badRate: 'slo:sli_bad:rate5m',
  totalRate: 'slo:sli_total:rate5m',
  totalRateFor: (window: string): string => `slo:sli_total:rate${window}`,
  timesliceError: (window: string): string => `slo:timeslice_error:ratio_rate${window}`,
  timesliceBad: 'slo:timeslice_bad:bool',
  objective: 'slo:objective:ratio',
  errorBudget: 'slo:error_budget:ratio',
  period: 'slo:period:seconds',
  periodBurnRate: 'slo:period_burn_rate:ratio',
  budgetRemaining: 'slo:period_error_budget_remaining:ratio',
  historyStart: 'slo:history_start:timestamp',
  history: 'slo:history:seconds',
  alertHistoryCoverage: 'slo:alert_history_coverage:ratio',
  periodCoverage: 'slo:period_coverage:ratio',
} as const;
