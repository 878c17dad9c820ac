import type { SloStatus } from '../engine/status.js';
import type { Severity, Slo } from '../model.js';

/**
 * One alert that fired during the report's period, as on-call saw it: the generated Prometheus alert of one
 * severity (`<Service><Slo>BurnRatePage`), firing while any of its conditions held.
 *
 * @example
 * ```ts
 * const alert: ReportAlert = {
 *   name: 'CheckoutAvailabilityBurnRatePage', severity: 'page', conditions: ['page-1h', 'page-6h'],
 *   start: Date.UTC(2026, 0, 3, 14), end: Date.UTC(2026, 0, 3, 15),
 * };
 * ```
 */
export interface ReportAlert {
  /** The alert name, as in the generated rules and the runbooks (`CheckoutAvailabilityBurnRatePage`). */
  readonly name: string;
  /** The conditions that held while it fired (`page-1h`, `page-6h`). */
  readonly conditions: readonly string[];
  readonly severity: Severity;
  /** Epoch ms it started firing. */
  readonly start: number;
  /** Epoch ms it stopped firing; `null` while still firing at the report's time. */
  readonly end: number | null;
}

/**
 * One point of an SLO's history: the SLI and the share of the error budget left at `at`.
 *
 * @example
 * ```ts
 * const point: ReportPoint = { at: Date.UTC(2026, 0, 3), sli: 0.9993, budgetRemaining: 0.82 };
 * ```
 */
export interface ReportPoint {
  readonly at: number;
  /** `null` before any event. */
  readonly sli: number | null;
  readonly budgetRemaining: number;
}

/**
 * One SLO in a report: its spec, its status at the report's time, its history and the alerts of the period.
 *
 * @example
 * ```ts
 * const entry: SloReportEntry = { slo, status: engine.status(slo.name), history: [], alerts: [] };
 * ```
 */
export interface SloReportEntry {
  readonly slo: Slo;
  readonly status: SloStatus;
  /** Oldest first. */
  readonly history: readonly ReportPoint[];
  readonly alerts: readonly ReportAlert[];
}

/**
 * What {@link renderHtmlReport} and {@link renderMarkdownReport} render.
 *
 * @example
 * ```ts
 * const report: SloReport = { title: 'Shop SLOs', at: Date.now(), source: 'engine', entries };
 * ```
 */
export interface SloReport {
  readonly title: string;
  /** Epoch ms the statuses were computed at. */
  readonly at: number;
  /** Where the numbers come from, printed in the footer (`engine`, or the Prometheus URL). */
  readonly source: string;
  readonly entries: readonly SloReportEntry[];
}
