import type { DashboardSpec } from '../grafana/model.js';
import { redDashboard } from './red.js';
import { resilienceDashboard } from './resilience.js';
import { sloDetailDashboard } from './slo-detail.js';
import { sloOverviewDashboard } from './slo-overview.js';
import { useDashboard } from './use.js';

/** Every generated dashboard; each is written to `dashboards/<uid>.json`. */
export const DASHBOARDS: readonly DashboardSpec[] = [
  redDashboard,
  useDashboard,
  resilienceDashboard,
  sloOverviewDashboard,
  sloDetailDashboard,
];
