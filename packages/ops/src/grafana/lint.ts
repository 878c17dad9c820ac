import type { MetricSpec } from '../catalog.js';
import { PromQLSyntaxError, isPassThrough, selectorsOf, substituteVariables } from '../promql.js';
import { SCHEMA_VERSION } from './model.js';

/**
 * The dashboard linter (after grafana/dashboard-linter's rules): one `datasource` variable every panel and target
 * uses, `job` and `instance` variables every selector matches on, `$__rate_interval` in every rate, a unit on every
 * panel, counters only under `rate`/`increase`, and only metrics the catalog has (or that a generated recording
 * rule records).
 */

/** Grafana unit ids the generators may use. */
export const KNOWN_UNITS: ReadonlySet<string> = new Set([
  's',
  'ms',
  'bytes',
  'percentunit',
  'percent',
  'reqps',
  'ops',
  'Bps',
  'currencyUSD',
  'short',
  'none',
]);

const RATE_SENTINEL = '60013ms';

/** The Grafana units that show a catalog unit faithfully (for panels that plot a metric's own values). */
const UNITS_FOR: Readonly<Record<string, readonly string[]>> = {
  seconds: ['s', 'ms'],
  bytes: ['bytes'],
  ratio: ['percentunit', 'percent', 'none'],
};
const COUNT_UNITS: readonly string[] = ['short', 'none'];
const COUNTER_FUNCTIONS: ReadonlySet<string> = new Set(['rate', 'increase']);

/** How a series name relates to the catalog. */
export interface ResolvedMetric {
  readonly spec: MetricSpec;
  /** True for counters and for the `_bucket`/`_count`/`_sum` series of histograms and summaries. */
  readonly counterLike: boolean;
}

/** Finds the catalog entry a series name belongs to (`x_bucket` → histogram `x`), or `undefined`. */
export function resolveMetric(series: string, catalog: readonly MetricSpec[]): ResolvedMetric | undefined {
  for (const spec of catalog) {
    if (spec.type === 'histogram') {
      // A histogram is exposed as _bucket, _count and _sum series, all counters; the family name itself is not a series.
      for (const suffix of ['_bucket', '_count', '_sum']) {
        if (series === spec.name + suffix) return { spec, counterLike: true };
      }
    } else if (spec.name === series) {
      return { spec, counterLike: spec.type === 'counter' };
    }
  }
  return undefined;
}

/** What the linter needs besides the dashboard. */
export interface LintContext {
  readonly catalog: readonly MetricSpec[];
  /** Series recorded by generated recording rules (allowed in panels, treated as gauges). */
  readonly recorded?: ReadonlySet<string>;
}

interface PanelJson {
  readonly id?: unknown;
  readonly type?: unknown;
  readonly title?: unknown;
  readonly description?: unknown;
  readonly datasource?: { readonly type?: unknown; readonly uid?: unknown };
  readonly fieldConfig?: { readonly defaults?: { readonly unit?: unknown } };
  readonly targets?: readonly { readonly expr?: unknown; readonly datasource?: { readonly uid?: unknown } }[];
  readonly panels?: readonly PanelJson[];
}

interface VariableJson {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly query?: unknown;
  readonly definition?: unknown;
  readonly refresh?: unknown;
  readonly datasource?: { readonly uid?: unknown };
}

/** Every panel of a dashboard, rows' nested panels included (rows themselves excluded). */
export function panelsOf(dashboard: unknown): PanelJson[] {
  const out: PanelJson[] = [];
  const visit = (panels: readonly PanelJson[] | undefined): void => {
    for (const p of panels ?? []) {
      if (p.type === 'row') visit(p.panels);
      else out.push(p);
    }
  };
  visit((dashboard as { panels?: PanelJson[] }).panels);
  return out;
}

/** Lints one dashboard; returns the problems found (empty when it passes), each naming the panel. */
export function lintDashboard(dashboard: unknown, context: LintContext): string[] {
  const problems: string[] = [];
  const d = dashboard as {
    schemaVersion?: unknown;
    uid?: unknown;
    editable?: unknown;
    title?: unknown;
    templating?: { list?: VariableJson[] };
  };
  const name = typeof d.title === 'string' ? d.title : '(untitled dashboard)';
  const problem = (where: string, what: string): void => void problems.push(`${name}: ${where}: ${what}`);

  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < SCHEMA_VERSION)
    problem('dashboard', `schemaVersion must be >= ${SCHEMA_VERSION}, got ${String(d.schemaVersion)}`);
  if (typeof d.uid !== 'string' || d.uid === '') problem('dashboard', 'has no uid');
  if (d.editable !== false)
    problem('dashboard', 'must not be editable (it is generated: change the generator)');

  const vars = d.templating?.list ?? [];
  const datasources = vars.filter((v) => v.type === 'datasource');
  if (
    datasources.length !== 1 ||
    datasources[0]?.name !== 'datasource' ||
    datasources[0]?.query !== 'prometheus'
  )
    problem('templating', 'must have exactly one Prometheus data source variable named `datasource`');
  for (const required of ['job', 'instance']) {
    if (!vars.some((v) => v.name === required && v.type === 'query'))
      problem('templating', `has no \`${required}\` query variable`);
  }
  for (const v of vars) {
    if (v.type !== 'query') continue;
    const where = `variable ${String(v.name)}`;
    if (v.datasource?.uid !== '${datasource}') problem(where, 'does not use the `datasource` variable');
    if (v.refresh !== 2) problem(where, 'must refresh on time range change (`refresh: 2`)');
    const query =
      typeof v.query === 'string' ? v.query : typeof v.definition === 'string' ? v.definition : '';
    const match = /^label_values\((.*),\s*(\w+)\)$/.exec(query);
    if (!match) {
      problem(where, `query must be label_values(<selector>, <label>), got \`${query}\``);
      continue;
    }
    checkExpr(match[1]!, where, context, problem, { panel: false });
  }

  const ids = new Set<unknown>();
  const placed: { x: number; y: number; w: number; h: number }[] = [];
  for (const panel of panelsOf(dashboard)) {
    const where = `panel "${String(panel.title)}"`;
    if (ids.has(panel.id)) problem(where, `duplicate panel id ${String(panel.id)}`);
    ids.add(panel.id);
    if (typeof panel.title !== 'string' || panel.title === '') problem(where, 'has no title');
    if (typeof panel.description !== 'string' || panel.description === '')
      problem(where, 'has no description');
    if (panel.datasource?.uid !== '${datasource}') problem(where, 'does not use the `datasource` variable');
    const unit = panel.fieldConfig?.defaults?.unit;
    if (typeof unit !== 'string' || !KNOWN_UNITS.has(unit))
      problem(where, `unit must be one of ${[...KNOWN_UNITS].join(', ')}, got ${String(unit)}`);
    const targets = panel.targets ?? [];
    if (targets.length === 0) problem(where, 'has no query');
    checkUnit(panel, where, context, problem);
    const gridPos = (panel as { gridPos?: { x: number; y: number; w: number; h: number } }).gridPos;
    if (gridPos) {
      for (const other of placed) {
        const overlaps =
          gridPos.x < other.x + other.w &&
          other.x < gridPos.x + gridPos.w &&
          gridPos.y < other.y + other.h &&
          other.y < gridPos.y + gridPos.h;
        if (overlaps) problem(where, 'overlaps another panel on the grid');
      }
      if (gridPos.x + gridPos.w > 24) problem(where, 'is wider than the 24-column grid');
      placed.push(gridPos);
    }
    for (const target of targets) {
      if (target.datasource?.uid !== '${datasource}')
        problem(where, 'a target does not use the `datasource` variable');
      if (typeof target.expr !== 'string') {
        problem(where, 'a target has no expr');
        continue;
      }
      checkExpr(target.expr, where, context, problem, { panel: true });
    }
  }
  return problems;
}

/** A panel that plots metrics' own values must show them in their catalog unit (seconds as `s`, …). */
function checkUnit(
  panel: PanelJson,
  where: string,
  context: LintContext,
  problem: (where: string, what: string) => void,
): void {
  const unit = panel.fieldConfig?.defaults?.unit;
  const exprs = (panel.targets ?? []).map((t) => (typeof t.expr === 'string' ? t.expr : ''));
  if (typeof unit !== 'string' || exprs.length === 0 || !exprs.every(safePassThrough)) return;
  for (const expr of exprs) {
    for (const use of selectorsOf(expr)) {
      const spec = use.metric === undefined ? undefined : resolveMetric(use.metric, context.catalog)?.spec;
      if (!spec) continue;
      const allowed = UNITS_FOR[spec.unit] ?? COUNT_UNITS;
      if (!allowed.includes(unit))
        problem(
          where,
          `plots \`${spec.name}\` (${spec.unit}) with unit ${unit}; use ${allowed.join(' or ')}`,
        );
    }
  }
}

function safePassThrough(expr: string): boolean {
  try {
    return selectorsOf(expr).length > 0 && isPassThrough(expr);
  } catch {
    return false; // reported by checkExpr
  }
}

function checkExpr(
  expr: string,
  where: string,
  context: LintContext,
  problem: (where: string, what: string) => void,
  { panel }: { panel: boolean },
): void {
  let uses;
  try {
    uses = selectorsOf(substituteVariables(expr, { __rate_interval: RATE_SENTINEL }));
  } catch (error) {
    if (error instanceof PromQLSyntaxError) {
      problem(where, `\`${expr}\` does not parse (offset ${error.position})`);
      return;
    }
    throw error;
  }
  for (const use of uses) {
    const metric = use.metric;
    if (metric === undefined) {
      problem(where, `\`${expr}\` has a selector without a metric name`);
      continue;
    }
    const resolved = resolveMetric(metric, context.catalog);
    if (!resolved && !context.recorded?.has(metric)) {
      problem(where, `\`${metric}\` is not in the metric catalog`);
      continue;
    }
    // Variable queries (`label_values(<selector>, job)`) only need a metric that exists; recorded series are
    // aggregated over every instance by their rules, so they carry no job/instance to match on.
    if (!panel) continue;
    for (const label of resolved ? ['job', 'instance'] : []) {
      if (!use.matchers.includes(label)) problem(where, `\`${metric}\` does not match on $${label}`);
    }
    const underCounterFunction = use.rangeFunction !== undefined && COUNTER_FUNCTIONS.has(use.rangeFunction);
    if (resolved?.counterLike && !underCounterFunction)
      problem(where, `counter \`${metric}\` must be read through rate() or increase()`);
    if (!resolved?.counterLike && use.range !== undefined && underCounterFunction)
      problem(where, `\`${use.rangeFunction}\` over \`${metric}\`, which is not a counter`);
    if (use.range !== undefined && underCounterFunction && use.range !== RATE_SENTINEL)
      problem(where, `\`${use.rangeFunction}(${metric}[${use.range}])\` must use [$__rate_interval]`);
  }
}
