// What the dashboard builders describe, apart from the Grafana JSON model they become (`model.ts`): these types
// appear in @ballast/ops's public declarations, so they import nothing from `@grafana/schema` (a development
// dependency only).

/** One query of a panel. */
export interface QuerySpec {
  readonly expr: string;
  /** Grafana legend template, e.g. `{{http_route}}`. */
  readonly legend: string;
}

/** One panel, as the dashboard builders describe it. */
export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  /** A Grafana unit id: `s`, `bytes`, `percentunit`, `reqps`, `ops`, `short`, `none`. */
  readonly unit: string;
  readonly queries: readonly QuerySpec[];
  /** @default 'timeseries' */
  readonly kind?: 'timeseries' | 'stat' | 'bargauge';
  /** Grid width in columns of 24. @default 12 */
  readonly width?: number;
  readonly min?: number;
  readonly max?: number;
  /** Draw a dashed threshold line / colour step at this value. */
  readonly threshold?: number;
}

/** A row of panels. */
export interface RowSpec {
  readonly title: string;
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
