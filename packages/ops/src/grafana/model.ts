/**
 * A small builder for Grafana dashboard JSON (the JSON model of Grafana 10+, `schemaVersion` 39). Every
 * dashboard gets the same `datasource`, `job` and `instance` variables, and every panel and target points at
 * `${datasource}`: a dashboard imports into any Grafana with any Prometheus data source name.
 */

import type {
  Dashboard,
  FieldColorModeId,
  GridPos,
  Panel,
  RowPanel,
  ThresholdsMode,
  VariableModel,
} from '@grafana/schema';

import type { DashboardSpec, PanelSpec } from './spec.js';

export type { DashboardSpec, LabelVariableSpec, PanelSpec, QuerySpec, RowSpec } from './spec.js';

/** The JSON model schema version written (Grafana 10.4 / 11 read it without migration). */
export const SCHEMA_VERSION = 39;

/** The data source reference every panel and target carries. */
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** A JSON value (what the dashboard files hold). */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

const PANEL_HEIGHT = 8;

/** Builds the Grafana JSON model for `spec`. Panel ids and grid positions follow the spec order. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  const panels: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      id: id++,
      panels: [],
      title: row.title,
      type: 'row',
    });
    y += 1;
    let x = 0;
    for (const panel of row.panels) {
      const w = panel.width ?? 12;
      if (x + w > 24) {
        x = 0;
        y += PANEL_HEIGHT;
      }
      panels.push(buildPanel(panel, id++, { h: PANEL_HEIGHT, w, x, y }));
      x += w;
    }
    y += PANEL_HEIGHT;
  }
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: spec.description,
    editable: false,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    links: [],
    panels,
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    tags: [...spec.tags],
    templating: { list: variables(spec) },
    time: { from: 'now-3h', to: 'now' },
    timepicker: {},
    timezone: 'utc',
    title: spec.title,
    uid: spec.uid,
    version: 1,
  };
}

function buildPanel(panel: PanelSpec, id: number, gridPos: GridPos): Panel {
  const kind = panel.kind ?? 'timeseries';
  const defaults: NonNullable<Panel['fieldConfig']>['defaults'] & Record<string, unknown> = {
    unit: panel.unit,
    // String enums of @grafana/schema, named by value so the types stay type-only (no runtime dependency).
    color: { mode: (kind === 'timeseries' ? 'palette-classic' : 'thresholds') as FieldColorModeId },
    thresholds: {
      mode: 'absolute' as ThresholdsMode,
      steps:
        panel.threshold === undefined
          ? [{ color: 'green', value: null }]
          : [
              { color: 'green', value: null },
              { color: 'red', value: panel.threshold },
            ],
    },
  };
  if (panel.min !== undefined) defaults.min = panel.min;
  if (panel.max !== undefined) defaults.max = panel.max;
  if (kind === 'timeseries') {
    defaults.custom = {
      drawStyle: 'line',
      fillOpacity: 10,
      lineWidth: 1,
      showPoints: 'never',
      spanNulls: false,
      thresholdsStyle: { mode: panel.threshold === undefined ? 'off' : 'dashed' },
    };
  }
  const options: Record<string, unknown> =
    kind === 'timeseries'
      ? {
          legend: {
            calcs: ['lastNotNull', 'max'],
            displayMode: 'table',
            placement: 'bottom',
            showLegend: true,
          },
          tooltip: { mode: 'multi', sort: 'desc' },
        }
      : {
          colorMode: 'value',
          graphMode: 'area',
          justifyMode: 'auto',
          orientation: 'auto',
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          textMode: 'auto',
        };
  return {
    datasource: { ...DATASOURCE },
    description: panel.description,
    fieldConfig: { defaults, overrides: [] },
    gridPos,
    id,
    options,
    targets: panel.queries.map((q, i) => ({
      datasource: { ...DATASOURCE },
      editorMode: 'code',
      expr: q.expr,
      ...(q.exemplar === true ? { exemplar: true } : {}),
      legendFormat: q.legend,
      range: true,
      refId: String.fromCharCode(65 + i),
    })),
    title: panel.title,
    type: kind,
  };
}

function queryVariable(name: string, label: string, query: string, all: boolean): VariableModel {
  return {
    datasource: { ...DATASOURCE },
    hide: 0,
    includeAll: all,
    ...(all ? { allValue: '.+' } : {}),
    label,
    multi: all,
    name,
    options: [],
    query,
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
    type: 'query',
  };
}

function variables(spec: DashboardSpec): VariableModel[] {
  return [
    {
      hide: 0,
      includeAll: false,
      label: 'Data source',
      multi: false,
      name: 'datasource',
      options: [],
      query: 'prometheus',
      refresh: 1,
      regex: '',
      skipUrlSync: false,
      type: 'datasource',
    },
    queryVariable('job', 'Job', `label_values(${spec.jobMetric}, job)`, false),
    queryVariable('instance', 'Instance', `label_values(${spec.jobMetric}{job=~"$job"}, instance)`, true),
    ...(spec.variables ?? []).map((v) => queryVariable(v.name, v.label, v.query, false)),
  ];
}

/** Serializes JSON with keys sorted at every level and a final newline: the same input gives the same bytes. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
