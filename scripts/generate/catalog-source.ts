import { METRIC_CATALOG } from '@ballast/telemetry';
import type { MetricSpec } from './catalog.js';

/** The catalog the generators read: `METRIC_CATALOG` of `@ballast/telemetry`. */
export function loadCatalog(): readonly MetricSpec[] {
  return METRIC_CATALOG;
}
