import { humanDuration, percent } from '../cli/format.js';
import type { SloStatus } from '../engine/status.js';
import type { ReportAlert } from './model.js';

/** Formats epoch ms as `2026-01-03 14:05 UTC`. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The burn rate the report shows: over the long window of the alert condition with the highest threshold. */
export function headlineBurn(status: SloStatus): { rate: number; window: string } | undefined {
  if (status.alerts.length === 0) return undefined;
  const ref = status.alerts.reduce((a, b) => (a.threshold > b.threshold ? a : b));
  return { rate: ref.burnRate, window: ref.longWindow };
}

/** `2 pages, 1 ticket`, or `none`. */
export function alertCounts(alerts: readonly ReportAlert[]): string {
  const pages = alerts.filter((a) => a.severity === 'page').length;
  const tickets = alerts.length - pages;
  const parts = [];
  if (pages > 0) parts.push(`${pages} page${pages === 1 ? '' : 's'}`);
  if (tickets > 0) parts.push(`${tickets} ticket${tickets === 1 ? '' : 's'}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** The cells every rendering shows for one SLO, as plain text (escaping is the renderer's job). */
export function rowCells(status: SloStatus, alerts: readonly ReportAlert[]): Record<string, string> {
  const burn = headlineBurn(status);
  return {
    objective: percent(status.objective),
    window: status.period.window,
    sli: percent(status.sli),
    budget: percent(status.errorBudget.remainingRatio, 1),
    burn: burn ? `${burn.rate.toFixed(2)}x (${burn.window})` : '-',
    exhaustion:
      status.timeToExhaustionMs !== null
        ? humanDuration(status.timeToExhaustionMs)
        : burn !== undefined && burn.rate > 0 && status.errorBudget.remainingRatio > 0
          ? 'past the period end'
          : 'not burning',
    alerts: alertCounts(alerts),
    policy: status.policy,
  };
}

export { humanDuration, percent };
