import { invalidOption } from '@ballast/core';
import { formatDuration, parseDuration } from './duration.js';
import { periodMs, type BurnRateCondition, type Severity, type TimeWindow } from './model.js';

const THIRTY_DAYS_MS = 30 * 86_400_000;

/**
 * The SRE Workbook's multi-window, multi-burn-rate table for a 30-day SLO ("Alerting on SLOs", table 5-8):
 * each row spends `budget` of the error budget over `long` at `burnRate` (burnRate × long / 30d).
 */
const WORKBOOK: readonly {
  severity: Severity;
  burnRate: number;
  longMs: number;
  shortMs: number;
}[] = [
  { severity: 'page', burnRate: 14.4, longMs: 3_600_000, shortMs: 300_000 }, // 2% in 1h
  { severity: 'page', burnRate: 6, longMs: 6 * 3_600_000, shortMs: 1_800_000 }, // 5% in 6h
  { severity: 'ticket', burnRate: 3, longMs: 86_400_000, shortMs: 2 * 3_600_000 }, // 10% in 1d
  { severity: 'ticket', burnRate: 1, longMs: 3 * 86_400_000, shortMs: 6 * 3_600_000 }, // 10% in 3d
];

/**
 * The Workbook's default alert conditions scaled to an SLO period: for 30 days, page at 14.4× over 1h/5m and
 * 6× over 6h/30m, ticket at 3× over 1d/2h and 1× over 3d/6h. For another period every window is multiplied by
 * `period / 30d` (rounded to the second) and the burn rates stay the same, so each condition still fires after
 * spending the same share of the budget (2%, 5%, 10%, 10%). Conditions are named `<severity>-<longWindow>`.
 *
 * @param period - the SLO period: a {@link TimeWindow}, milliseconds, or a duration such as `'28d'`.
 * @example
 * ```ts
 * import { defaultAlertWindows } from '@ballast/slo';
 * defaultAlertWindows('30d')[0]; // { name: 'page-1h', severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m', ... }
 * defaultAlertWindows('28d')[0].longWindow; // '56m'
 * ```
 */
export function defaultAlertWindows(period: TimeWindow | number | string): BurnRateCondition[] {
  const ms =
    typeof period === 'number'
      ? period
      : typeof period === 'string'
        ? parseDuration(period)
        : periodMs(period);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    throw invalidOption('period', 'a positive duration (e.g. `30d`) or a time window', period);
  }
  const scale = ms / THIRTY_DAYS_MS;
  return WORKBOOK.map((row) => {
    const longWindowMs = Math.max(1000, Math.round((row.longMs * scale) / 1000) * 1000);
    const shortWindowMs = Math.max(1000, Math.round((row.shortMs * scale) / 1000) * 1000);
    const longWindow = formatDuration(longWindowMs);
    return {
      name: `${row.severity}-${longWindow}`,
      severity: row.severity,
      burnRate: row.burnRate,
      longWindow,
      longWindowMs,
      shortWindow: formatDuration(shortWindowMs),
      shortWindowMs,
    };
  });
}
