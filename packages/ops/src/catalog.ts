/**
 * The shape of the metric catalog the generators read (`METRIC_CATALOG` of `@ballast/telemetry` fits it): every
 * metric a Ballast service exposes, with its Prometheus type, unit, labels and meaning. Dashboards may only
 * query what is listed, and the linter uses the types to tell counters (only under `rate`/`increase`) from
 * gauges.
 */

/** Prometheus metric type as exposed on `/metrics`. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One metric of the catalog, named as exposed (counters end in `_total`). */
export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly unit: string;
  readonly labels: readonly { readonly name: string; readonly values?: readonly string[] }[];
  readonly help: string;
  readonly group: 'RED' | 'USE' | 'resilience' | 'SLO';
  /** `ballast` for metrics Ballast defines; `prom-client` for the default metrics it reuses. */
  readonly source: 'ballast' | 'prom-client';
}
