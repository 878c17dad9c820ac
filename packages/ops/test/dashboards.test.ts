import { describe, expect, it } from 'vitest';
import { SERVICE, generatedDashboards, loadCatalog, recordedSeries } from './support/retailflow.js';
import { serviceMetricSpecs } from '../src/service-metrics.js';
import { lintDashboard, panelsOf, resolveMetric } from '../src/grafana/lint.js';
import { buildDashboard, type DashboardSpec, type PanelSpec } from '../src/grafana/model.js';
import { selectorsOf, substituteVariables } from '../src/promql.js';

const catalog = loadCatalog();
// RetailFlow's own dashboard reads the metrics its service file declares.
const context = { catalog: [...catalog, ...serviceMetricSpecs(SERVICE.metrics)], recorded: recordedSeries() };
const DASHBOARDS = generatedDashboards();

describe('generated dashboards', () => {
  it.each(DASHBOARDS.map((d) => [d.uid, d] as const))('%s passes every dashboard rule', (_, spec) => {
    expect(lintDashboard(buildDashboard(spec), context)).toEqual([]);
  });

  it("has the five dashboards the on-call needs, then the service file's own, with unique uids", () => {
    expect(DASHBOARDS.map((d) => d.uid)).toEqual([
      'ballast-red',
      'ballast-use',
      'ballast-resilience',
      'ballast-slo-overview',
      'ballast-slo-detail',
      'retailflow-usage-cost',
    ]);
  });

  it('SLO detail picks one SLO with an `slo` variable that every panel filters on', () => {
    const detail = buildDashboard(DASHBOARDS.find((d) => d.uid === 'ballast-slo-detail')!) as {
      templating: { list: { name: string }[] };
    };
    expect(detail.templating.list.map((v) => v.name)).toContain('slo');
    for (const panel of panelsOf(detail)) {
      for (const t of panel.targets ?? []) expect(t.expr).toMatch(/slo=~"\$slo"/);
    }
  });

  it('SLO detail shows every error-ratio window the generated SLO rules record', () => {
    const detail = buildDashboard(DASHBOARDS.find((d) => d.uid === 'ballast-slo-detail')!);
    const exprs = panelsOf(detail).flatMap((p) => (p.targets ?? []).map((t) => String(t.expr)));
    // Every window is a `window` label of one series; the period's ratio has its own.
    for (const record of ['slo:sli_error:ratio', 'slo:period_error:ratio']) {
      expect(context.recorded.has(record)).toBe(true);
      expect(exprs.some((e) => e.includes(`${record}{`))).toBe(true);
    }
    expect(exprs).toContain('max by (window) (slo:sli_error:ratio{slo=~"$slo"})');
  });

  it('shows every metric Ballast defines on at least one dashboard', () => {
    const shown = new Set<string>();
    for (const spec of DASHBOARDS) {
      for (const panel of panelsOf(buildDashboard(spec))) {
        for (const t of panel.targets ?? []) {
          for (const use of selectorsOf(substituteVariables(String(t.expr), { __rate_interval: '1m' }))) {
            const resolved = use.metric === undefined ? undefined : resolveMetric(use.metric, catalog);
            if (resolved) shown.add(resolved.spec.name);
          }
        }
      }
    }
    const missing = catalog.filter((m) => m.source === 'ballast' && !shown.has(m.name)).map((m) => m.name);
    expect(missing).toEqual([]);
  });
});

// A small dashboard that passes, and one broken copy per rule: the linter must name each problem.
const good: PanelSpec = {
  title: 'Requests',
  description: 'Requests per second.',
  unit: 'reqps',
  queries: [
    {
      expr: 'sum(rate(http_server_request_duration_seconds_count{job=~"$job",instance=~"$instance"}[$__rate_interval]))',
      legend: 'all',
    },
  ],
};
const base: DashboardSpec = {
  uid: 'lint-fixture',
  title: 'Fixture',
  description: 'A dashboard for the linter tests.',
  tags: [],
  jobMetric: 'http_server_active_requests',
  rows: [{ title: 'Row', panels: [good] }],
};
function withPanel(panel: Partial<PanelSpec>): unknown {
  return buildDashboard({ ...base, rows: [{ title: 'Row', panels: [{ ...good, ...panel }] }] });
}
function withExpr(expr: string): unknown {
  return withPanel({ queries: [{ expr, legend: '' }] });
}
const scope = 'job=~"$job",instance=~"$instance"';

describe('dashboard linter', () => {
  it('passes the fixture', () => {
    expect(lintDashboard(buildDashboard(base), context)).toEqual([]);
  });

  it.each([
    ['a panel without a unit', withPanel({ unit: '' }), /unit must be one of/],
    ['an unknown unit', withPanel({ unit: 'furlongs' }), /unit must be one of/],
    ['a panel without description', withPanel({ description: '' }), /has no description/],
    ['a query that does not parse', withExpr(`sum(rate(x{${scope}}[$__rate_interval])`), /does not parse/],
    [
      'a metric missing from the catalog',
      withExpr(`rate(made_up_total{${scope}}[$__rate_interval])`),
      /`made_up_total` is not in the metric catalog/,
    ],
    [
      'a counter read raw',
      withExpr(`sum(ballast_policy_calls_total{${scope}})`),
      /counter `ballast_policy_calls_total` must be read through rate\(\) or increase\(\)/,
    ],
    [
      'a histogram bucket read raw',
      withExpr(`http_server_request_duration_seconds_bucket{${scope}}`),
      /must be read through rate/,
    ],
    [
      'a counter under max_over_time',
      withExpr(`max_over_time(ballast_policy_calls_total{${scope}}[5m])`),
      /must be read through rate/,
    ],
    [
      'a rate over a gauge',
      withExpr(`rate(ballast_bulkhead_queued{${scope}}[$__rate_interval])`),
      /`rate` over `ballast_bulkhead_queued`, which is not a counter/,
    ],
    [
      'a fixed rate window',
      withExpr(`rate(ballast_policy_calls_total{${scope}}[5m])`),
      /must use \[\$__rate_interval\]/,
    ],
    [
      'a selector without $job',
      withExpr('ballast_bulkhead_queued{instance=~"$instance"}'),
      /does not match on \$job/,
    ],
    [
      'a selector without $instance',
      withExpr('ballast_bulkhead_queued{job=~"$job"}'),
      /does not match on \$instance/,
    ],
    [
      'a gauge in seconds shown as a count',
      withPanel({
        unit: 'short',
        queries: [{ expr: `max(nodejs_eventloop_lag_p99_seconds{${scope}})`, legend: '' }],
      }),
      /plots `nodejs_eventloop_lag_p99_seconds` \(seconds\) with unit short; use s or ms/,
    ],
    [
      'a gauge in seconds shown in seconds is fine',
      withPanel({
        unit: 's',
        queries: [{ expr: `max(nodejs_eventloop_lag_p99_seconds{${scope}})`, legend: '' }],
      }),
      null,
    ],
    [
      'a gauge named _total read raw is fine',
      withPanel({ unit: 'short', queries: [{ expr: `nodejs_active_handles_total{${scope}}`, legend: '' }] }),
      null,
    ],
  ])('reports %s', (_, dashboard, expected) => {
    const problems = lintDashboard(dashboard, context);
    if (expected === null) expect(problems).toEqual([]);
    else expect(problems.join('\n')).toMatch(expected);
  });

  it('reports panels that overlap on the grid', () => {
    const d = buildDashboard({ ...base, rows: [{ title: 'Row', panels: [good, good] }] }) as {
      panels: { type: string; gridPos: { x: number } }[];
    };
    d.panels.filter((p) => p.type !== 'row')[1]!.gridPos.x = 6;
    expect(lintDashboard(d, context).join('\n')).toMatch(/overlaps another panel/);
  });

  it('reports a panel with a hard-coded data source', () => {
    const d = buildDashboard(base) as { panels: { type: string; datasource?: unknown }[] };
    d.panels.find((p) => p.type !== 'row')!.datasource = { type: 'prometheus', uid: 'prod-prometheus' };
    expect(lintDashboard(d, context).join('\n')).toMatch(/does not use the `datasource` variable/);
  });

  it('reports an editable dashboard and a variable that does not refresh on time range change', () => {
    const d = buildDashboard(base) as {
      editable: boolean;
      templating: { list: { name: string; refresh: number }[] };
    };
    d.editable = true;
    d.templating.list.find((v) => v.name === 'job')!.refresh = 1;
    const problems = lintDashboard(d, context).join('\n');
    expect(problems).toMatch(/must not be editable/);
    expect(problems).toMatch(/variable job: must refresh on time range change/);
  });

  it('reports missing job/instance/datasource variables and an old schema', () => {
    const d = buildDashboard(base) as { schemaVersion: number; templating: { list: unknown[] } };
    d.schemaVersion = 27;
    d.templating.list = [];
    const problems = lintDashboard(d, context).join('\n');
    expect(problems).toMatch(/schemaVersion must be >= 39/);
    expect(problems).toMatch(/exactly one Prometheus data source variable/);
    expect(problems).toMatch(/no `job` query variable/);
    expect(problems).toMatch(/no `instance` query variable/);
  });
});
