/**
 * The metric catalog the generators read: every metric a Ballast service exposes, with its Prometheus type, unit,
 * labels and meaning. Dashboards may only query what is listed here, and the linter uses the types to tell
 * counters (only under `rate`/`increase`) from gauges.
 */

/** Prometheus metric type as exposed on `/metrics`. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** Which dashboard family a metric belongs to. */
export type MetricGroup = 'RED' | 'USE' | 'resilience' | 'SLO';

/** One metric of the catalog, named as exposed (counters end in `_total`). */
export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  /** Base unit: `seconds`, `bytes`, `ratio`, `requests`, … (empty for plain counts). */
  readonly unit: string;
  readonly labels: readonly string[];
  readonly help: string;
  readonly group: MetricGroup;
}
