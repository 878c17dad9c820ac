import type { DashboardSpec } from '../grafana/spec.js';
import { redDashboard } from './red.js';
import { resilienceDashboard } from './resilience.js';
import { sloDetailDashboard } from './slo-detail.js';
import { sloOverviewDashboard } from './slo-overview.js';
import { useDashboard } from './use.js';

/**
 * Every generated dashboard; each is written to `dashboards/<uid>.json`. `recorded` is the set of series the
 * generated recording rules record (the SLO detail dashboard shows them).
 */
export function dashboardSpecs(recorded: ReadonlySet<string>): DashboardSpec[] {
  return [redDashboard, useDashboard, resilienceDashboard, sloOverviewDashboard, sloDetailDashboard(recorded)];
}
