import type { Severity, Slo } from '../model.js';
import { burnRateAlertName } from '../rules/names.js';
import type { ReportAlert } from './model.js';

/** One firing of one alert condition, from the engine's events or a range query. */
export interface ConditionFiring {
  readonly name: string;
  readonly severity: Severity;
  readonly start: number;
  readonly end: number | null;
}

/**
 * Merges firings of an SLO's conditions into the alerts on-call saw: the generated rules have one alert per
 * severity that fires while any of its conditions holds, so overlapping firings of one severity are one alert.
 */
export function mergeAlerts(slo: Slo, firings: readonly ConditionFiring[]): ReportAlert[] {
  const out: ReportAlert[] = [];
  for (const severity of ['page', 'ticket'] as const) {
    const sorted = firings.filter((f) => f.severity === severity).sort((a, b) => a.start - b.start);
    let open: { start: number; end: number | null; conditions: Set<string> } | undefined;
    const close = (): void => {
      if (!open) return;
      out.push({
        name: burnRateAlertName(slo, severity),
        severity,
        conditions: [...open.conditions],
        start: open.start,
        end: open.end,
      });
      open = undefined;
    };
    for (const f of sorted) {
      if (open && (open.end === null || f.start <= open.end)) {
        open.end = open.end === null || f.end === null ? null : Math.max(open.end, f.end);
        open.conditions.add(f.name);
        continue;
      }
      close();
      open = { start: f.start, end: f.end, conditions: new Set([f.name]) };
    }
    close();
  }
  return out.sort((a, b) => a.start - b.start || a.severity.localeCompare(b.severity));
}
