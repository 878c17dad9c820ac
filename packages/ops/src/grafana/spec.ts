// What the dashboard builders describe, apart from the Grafana JSON model they become (`model.ts`): these types
// appear in @ballast/ops's public declarations, so they import nothing from `@grafana/schema` (a development
// dependency only).

/**
 * One query of a panel.
 *
 * @example
 * ```ts
 * const q: QuerySpec = { expr: 'max by (instance) (shop_queue_depth{job=~"$job",instance=~"$instance"})', legend: '{{instance}}' };
 * ```
 */
export interface QuerySpec {
  /** PromQL, with `$job`/`$instance` matchers and counters under `rate(...[$__rate_interval])`. */
  readonly expr: string;
  /** Grafana legend template, e.g. `{{http_route}}`. */
  readonly legend: string;
  /**
   * Show the histogram's exemplars (one dot per sampled request, carrying its `trace_id`): from the dashboard to
   * the trace, then to the request's log lines. @default false
   */
  readonly exemplar?: boolean;
}

/**
 * One panel, as the dashboard builders describe it.
 *
 * @example
 * ```ts
 * const panel: PanelSpec = { title: 'Queue depth', description: 'Jobs waiting.', unit: 'short', queries: [q] };
 * ```
 */
export interface PanelSpec {
  readonly title: string;
  /** What the panel shows and how to read it (Grafana's panel info). */
  readonly description: string;
  /** A Grafana unit id: `s`, `bytes`, `percentunit`, `reqps`, `ops`, `short`, `none`. */
  readonly unit: string;
  /** One series (or set of series) per query. */
  readonly queries: readonly QuerySpec[];
  /** @default 'timeseries' */
  readonly kind?: 'timeseries' | 'stat' | 'bargauge';
  /** Grid width in columns of 24. @default 12 */
  readonly width?: number;
  /** Lower bound of the axis. @default Grafana's automatic bound */
  readonly min?: number;
  /** Upper bound of the axis. @default Grafana's automatic bound */
  readonly max?: number;
  /** Draw a dashed threshold line / colour step at this value. */
  readonly threshold?: number;
}

/**
 * A row of panels.
 *
 * @example
 * ```ts
 * const row: RowSpec = { title: 'Queue', panels: [panel] };
 * ```
 */
export interface RowSpec {
  /** The row's title (collapsed rows show only this). */
  readonly title: string;
  /** Left to right, wrapping at 24 columns. */
  readonly panels: readonly PanelSpec[];
}

/** An extra template variable (a label of a catalog metric), after `datasource`, `job` and `instance`. */
export interface LabelVariableSpec {
  readonly name: string;
  readonly label: string;
  /** The `label_values(...)` query. */
  readonly query: string;
}

/** A whole dashboard. */
export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  /** The metric whose `job`/`instance` labels fill those variables. */
  readonly jobMetric: string;
  readonly variables?: readonly LabelVariableSpec[];
  readonly rows: readonly RowSpec[];
}
