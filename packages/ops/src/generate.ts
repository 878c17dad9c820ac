import { METRIC_CATALOG } from '@ballast/telemetry';
import type { Slo } from '@ballast/slo';
import { BallastTargetDown, BallastTargetMissing, sliNoData } from './alerts/absence.js';
import type { AlertSpec } from './alerts/alert.js';
import { operationalAlerts } from './alerts/index.js';
import { alertContext } from './alerts/ops.js';
import type { MetricSpec } from './catalog.js';
import { dashboardSpecs } from './dashboards/index.js';
import { serviceMetricSpecs } from './service-metrics.js';
import { lintDashboard } from './grafana/lint.js';
import { buildDashboard, stableJson } from './grafana/model.js';
import type { DashboardSpec } from './grafana/spec.js';
import { analysisTemplates, prometheusRuleResource, kubernetesYaml } from './kubernetes.js';
import {
  operationalRuleGroups,
  operationalRuleFile,
  operationalRuleTests,
  prometheusConfig,
  rulesIn,
  type RuleEntry,
} from './prometheus/rules.js';
import {
  renderHandoffChecklist,
  renderIncidentResponse,
  renderIndex,
  renderPostmortemTemplate,
  type IndexEntry,
} from './runbooks/docs.js';
import { renderRunbook, type DashboardRef, type RunbookPage } from './runbooks/render.js';
import type { ResolvedService, RunbookHints } from './service.js';
import { sloArtifacts } from './slo.js';

/** File names under the Prometheus output directory. */
export const PROMETHEUS_FILES = {
  operationalRules: 'operational-alerts.yaml',
  operationalTests: 'operational-alerts.test.yaml',
  sloRules: 'slo-rules.yaml',
  sloTestsDir: 'slo-tests',
  config: 'prometheus.yml',
} as const;

/**
 * What {@link generateOps} reads.
 *
 * @example
 * ```ts
 * const input: OpsInput = { slos: await loadSlos(['slos/']), service: resolveService({ name: 'shop' }) };
 * ```
 */
export interface OpsInput {
  readonly slos: readonly Slo[];
  readonly service: ResolvedService;
  /** The metrics the service exports. @default METRIC_CATALOG of `@ballast/telemetry` */
  readonly catalog?: readonly MetricSpec[];
}

/** A runbook page and the rule file its alert is in. */
export type RunbookPageOf = RunbookPage & { readonly ruleFile: string };

/**
 * What {@link generateOps} produces: every file (path relative to the output directory → content) and the
 * pieces the checks read.
 */
export interface OpsOutput {
  readonly files: Map<string, string>;
  readonly dashboards: readonly DashboardSpec[];
  readonly pages: readonly RunbookPageOf[];
  /** The operational, custom and absence alerts, with their promtool cases. */
  readonly alerts: readonly AlertSpec[];
  /** Problems the dashboard linter found (the CLI refuses to write when there are any). */
  readonly lint: readonly string[];
}

/** Merges a service's hints into a generic runbook: the levers first, then the service's own steps. */
export function withHints(
  runbook: AlertSpec['runbook'],
  hints: RunbookHints | undefined,
  service: ResolvedService,
  leading: readonly string[] = service.shell.commands,
): AlertSpec['runbook'] {
  const levers = (hints?.levers ?? []).map((name) => service.levers[name]!);
  return {
    meaning: runbook.meaning,
    impact: hints?.impact ? `${runbook.impact} ${hints.impact}` : runbook.impact,
    queries: [...runbook.queries, ...(hints?.queries ?? [])],
    panels: [...runbook.panels, ...(hints?.panels ?? [])],
    curl: [...leading, ...runbook.curl, ...(hints?.commands ?? [])],
    steps: [...runbook.steps, ...(hints?.steps ?? [])],
    mitigation: [...levers.map((l) => l.step), ...(hints?.mitigation ?? []), ...runbook.mitigation],
    mitigationCommands: [
      ...levers.flatMap((l) => l.commands ?? []),
      ...(hints?.mitigationCommands ?? []),
      ...runbook.mitigationCommands,
    ],
  };
}

/** A custom alert of the service file as an {@link AlertSpec} (its `commands` are the runbook's shell commands). */
function customAlert(alert: AlertSpec, service: ResolvedService): AlertSpec {
  const raw = alert.runbook as Partial<AlertSpec['runbook']> &
    RunbookHints &
    Pick<AlertSpec['runbook'], 'meaning' | 'impact'>;
  const base: AlertSpec['runbook'] = {
    meaning: raw.meaning,
    impact: raw.impact,
    queries: raw.queries ?? [],
    panels: raw.panels ?? [],
    curl: raw.commands ?? [],
    steps: raw.steps ?? [],
    mitigation: raw.mitigation ?? [],
    mitigationCommands: raw.mitigationCommands ?? [],
  };
  return { ...alert, runbook: withHints(base, raw.levers ? { levers: raw.levers } : undefined, service) };
}

function sorted(files: Map<string, string>): Map<string, string> {
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Every file `ballast-ops generate` writes for a service, path (relative to the output directory) → content:
 * `dashboards/`, `runbooks/`, the Prometheus rules and promtool tests (under `service.output.prometheus`) and the
 * Kubernetes resources (under `service.output.kubernetes`). Pure and deterministic: same input, same bytes.
 *
 * @example
 * ```ts
 * const { files, lint } = generateOps({ slos, service: resolveService({ name: 'shop' }) });
 * ```
 */
export function generateOps(input: OpsInput): OpsOutput {
  const { slos, service } = input;
  const catalog = input.catalog ?? METRIC_CATALOG;
  const promDir = service.output.prometheus.replace(/\/+$/, '');
  const k8sDir = service.output.kubernetes.replace(/\/+$/, '');
  const P = PROMETHEUS_FILES;
  const files = new Map<string, string>();
  const context = alertContext(service.job, service.target, service.shell.url, service.shell.metrics);

  const slo = sloArtifacts(
    slos,
    service.runbookBaseUrl,
    `\`${promDir}/${P.sloRules}\`, written by \`@ballast/slo\``,
  );
  const recorded = new Set(rulesIn(slo.rules).flatMap((r) => (r.record ? [r.record] : [])));
  const generated = dashboardSpecs(recorded);
  for (const uid of Object.keys(service.dashboardRows)) {
    if (!generated.some((d) => d.uid === uid)) {
      throw new Error(
        `service file: dashboardRows.${uid}: no generated dashboard has this uid (expected one of ${generated.map((d) => d.uid).join(', ')})`,
      );
    }
  }
  // The service's own rows go at the end of the dashboard they name; its own dashboards follow the generated ones.
  const dashboards = [
    ...generated.map((d) => ({ ...d, rows: [...d.rows, ...(service.dashboardRows[d.uid] ?? [])] })),
    ...service.dashboards,
  ];
  // Metrics the service describes keep their type and unit; names alone are typed by their suffix.
  const described = new Set(service.metricSpecs.map((m) => m.name));
  const lintCatalog = [
    ...catalog,
    ...service.metricSpecs,
    ...serviceMetricSpecs(service.metrics.filter((m) => !described.has(m))),
  ];
  const refs: DashboardRef[] = dashboards.map((d) => ({ uid: d.uid, title: d.title, file: `${d.uid}.json` }));
  const lint: string[] = [];
  for (const spec of dashboards) {
    const json = buildDashboard(spec);
    lint.push(...lintDashboard(JSON.parse(JSON.stringify(json)), { catalog: lintCatalog, recorded }));
    files.set(`dashboards/${spec.uid}.json`, stableJson(json));
  }

  const hintsFor = (name: string): RunbookHints | undefined => service.alerts[name];
  const operational = [
    ...operationalAlerts(context),
    ...service.customAlerts.map((a) => customAlert(a, service)),
  ];
  const absence = [
    BallastTargetDown(service.job, context),
    BallastTargetMissing(service.job, context),
    ...slos.map((s) => sliNoData(s, service.job)),
  ];
  const custom = new Set(service.customAlerts.map((a) => a.name));
  const groups = [
    { name: `${service.name}-operational`, alerts: operational },
    { name: `${service.name}-absence`, alerts: absence },
  ];
  const base = service.runbookBaseUrl;
  files.set(`${promDir}/${P.operationalRules}`, operationalRuleFile(groups, base));
  files.set(
    `${promDir}/${P.operationalTests}`,
    operationalRuleTests([...operational, ...absence], P.operationalRules, base),
  );
  files.set(`${promDir}/${P.sloRules}`, slo.rules);
  files.set(
    `${promDir}/${P.config}`,
    prometheusConfig([P.operationalRules, P.sloRules], service.job, service.target, service.scrapeTokenFile),
  );
  for (const test of slo.tests) files.set(`${promDir}/${P.sloTestsDir}/${test.path}`, test.content);

  // Kubernetes: the same rules as PrometheusRule resources, and one AnalysisTemplate per SLO.
  const operationalResource = prometheusRuleResource(
    `${service.name}-operational`,
    service,
    operationalRuleGroups(groups, base),
  );
  const sloResource = prometheusRuleResource(`${service.name}-slo`, service, slo.groups);
  files.set(`${k8sDir}/prometheusrule-operational.yaml`, kubernetesYaml([operationalResource]));
  files.set(`${k8sDir}/prometheusrule-slo.yaml`, kubernetesYaml([sloResource]));
  files.set(`${k8sDir}/analysistemplates.yaml`, kubernetesYaml(analysisTemplates(slos, service)));

  const source = (file: string): string => `\`${promDir}/${file}\``;
  const pages: RunbookPageOf[] = [
    ...[...operational, ...absence].map((alert) => ({
      name: alert.name,
      severity: alert.severity,
      summary: alert.summary,
      expr: alert.expr,
      source: source(P.operationalRules),
      // What promtool proves the firing alert carries.
      labels: [
        ...new Set([
          ...Object.keys(alert.labels ?? {}),
          ...alert.tests.flatMap((t) => t.firing.flatMap((f) => Object.keys(f.labels))),
        ]),
      ],
      // Custom alerts got their hints merged already; generic ones get the service's now.
      runbook: custom.has(alert.name)
        ? alert.runbook
        : withHints(alert.runbook, hintsFor(alert.name), service),
      ...(hintsFor(alert.name)?.exemplars ? { exemplars: hintsFor(alert.name)!.exemplars! } : {}),
      ruleFile: P.operationalRules,
    })),
    ...slo.runbooks.map((page) => {
      const hints = mergeHints(service.slos[page.slo], hintsFor(page.name));
      const exemplars = hints?.exemplars ?? page.exemplars;
      return {
        ...page,
        runbook: withHints(page.runbook, hints, service, [
          ...service.shell.sloCommands,
          ...service.shell.commands,
        ]),
        ...(exemplars ? { exemplars } : {}),
        ruleFile: P.sloRules,
      };
    }),
  ];
  const shell = { ...service.shell, job: service.job, logs: service.logs };
  for (const page of pages) files.set(`runbooks/${page.name}.md`, renderRunbook(page, refs, shell));
  const index: IndexEntry[] = pages.map((p) => ({
    name: p.name,
    severity: p.severity,
    summary: p.summary,
    ruleFile: p.ruleFile,
  }));
  files.set('runbooks/README.md', renderIndex(index, refs, service));
  files.set('runbooks/incident-response.md', renderIncidentResponse(service, context.metrics));
  files.set('runbooks/postmortem-template.md', renderPostmortemTemplate());
  files.set('runbooks/oncall-handoff.md', renderHandoffChecklist(refs, service));
  return { files: sorted(files), dashboards, pages, lint, alerts: [...operational, ...absence] };
}

function mergeHints(a: RunbookHints | undefined, b: RunbookHints | undefined): RunbookHints | undefined {
  if (!a || !b) return a ?? b;
  const cat = <T>(x: readonly T[] | undefined, y: readonly T[] | undefined): T[] => [
    ...(x ?? []),
    ...(y ?? []),
  ];
  const impact = [a.impact, b.impact].filter(Boolean).join(' ');
  return {
    ...(impact ? { impact } : {}),
    queries: cat(a.queries, b.queries),
    panels: cat(a.panels, b.panels),
    commands: cat(a.commands, b.commands),
    steps: cat(a.steps, b.steps),
    levers: cat(a.levers, b.levers),
    mitigation: cat(a.mitigation, b.mitigation),
    mitigationCommands: cat(a.mitigationCommands, b.mitigationCommands),
    ...((b.exemplars ?? a.exemplars) ? { exemplars: (b.exemplars ?? a.exemplars)! } : {}),
  };
}

/** The rule files Prometheus loads under `dir`: `*.yaml` directly in it (tests and the config excluded). */
export function ruleFilesOf(files: ReadonlyMap<string, string>, dir: string): Map<string, RuleEntry[]> {
  const out = new Map<string, RuleEntry[]>();
  for (const [path, content] of files) {
    const name = path.slice(dir.length + 1);
    if (path.startsWith(`${dir}/`) && !name.includes('/') && isRuleFile(name))
      out.set(path, rulesIn(content));
  }
  return out;
}

/** True for a rules file name (`.yaml`/`.yml`), false for a promtool test file and the Prometheus config. */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name) && name !== PROMETHEUS_FILES.config;
}
