import { checkNumber } from '@ballast/core';
import type { PrometheusBackend } from '../prometheus/backend.js';
import { mergeAlerts } from './alerts.js';
import type { SloReport } from './model.js';

/**
 * Options of {@link prometheusReport}.
 *
 * @example
 * ```ts
 * const options: PrometheusReportOptions = { title: 'Shop SLOs', points: 60, source: 'prometheus.shop.internal' };
 * ```
 */
export interface PrometheusReportOptions {
  /** @default 'SLO report' */
  readonly title?: string;
  /** Points per history chart. @default 48 */
  readonly points?: number;
  /** Where the numbers come from, for the footer. @default 'Prometheus' */
  readonly source?: string;
}

/**
 * Builds a report from a real Prometheus through a {@link PrometheusBackend}: each SLO's status at the backend's
 * clock time, its SLI and budget left across the period, and the alerts that fired in the period.
 *
 * @example
 * ```ts
 * import { PrometheusBackend, prometheusReport, renderMarkdownReport } from '@ballast/slo';
 * const backend = new PrometheusBackend(slos, { url: 'http://prometheus:9090' });
 * console.log(renderMarkdownReport(await prometheusReport(backend, { title: 'Shop SLOs' })));
 * ```
 */
export async function prometheusReport(
  backend: PrometheusBackend,
  options: PrometheusReportOptions = {},
): Promise<SloReport> {
  const points = checkNumber('points', options.points, 48, { integer: true, min: 2 });
  const entries = [];
  let at = 0;
  for (const slo of backend.slos) {
    const status = await backend.status(slo.name);
    at = Math.max(at, status.at);
    const [history, alerts] = await Promise.all([
      backend.history(slo.name, points),
      backend.alertHistory(slo.name, status.period.start, status.at),
    ]);
    entries.push({ slo, status, history, alerts: mergeAlerts(slo, alerts) });
  }
  return { title: options.title ?? 'SLO report', at, source: options.source ?? 'Prometheus', entries };
}
