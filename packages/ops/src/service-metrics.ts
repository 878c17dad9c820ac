import type { MetricSpec } from '@ballast/telemetry';

const HISTOGRAM_SERIES = /_(bucket|count|sum)$/;

/**
 * Catalog entries for the metric names a service file lists besides the telemetry catalog, so the dashboard
 * linter can check the service's own dashboards: a name ending in `_total` is a counter, one ending in
 * `_bucket`, `_count` or `_sum` a series of a histogram, any other a gauge. Units follow the name's suffix.
 */
export function serviceMetricSpecs(names: readonly string[]): MetricSpec[] {
  const specs = new Map<string, MetricSpec>();
  for (const name of names) {
    const histogram = HISTOGRAM_SERIES.test(name);
    const family = histogram ? name.replace(HISTOGRAM_SERIES, '') : name;
    if (specs.has(family)) continue;
    const base = family.replace(/_total$/, '');
    specs.set(family, {
      name: family,
      type: histogram ? 'histogram' : family.endsWith('_total') ? 'counter' : 'gauge',
      unit: base.endsWith('_seconds') ? 'seconds' : base.endsWith('_bytes') ? 'bytes' : '1',
      labels: [],
      help: 'Declared in the service file.',
      group: 'USE',
      source: 'ballast',
    });
  }
  return [...specs.values()];
}
