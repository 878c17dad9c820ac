import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPERATIONAL_ALERTS } from './alerts/index.js';
import { dashboardSpecs } from './dashboards/index.js';
import { buildDashboard, stableJson, type DashboardSpec } from './grafana/model.js';
import {
  prometheusConfig,
  operationalRuleFile,
  operationalRuleTests,
  REPOSITORY_URL,
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
import { sloArtifacts } from './slo.js';

/** The repository root (two levels above this file). */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The directories `generate` owns: every file in them is generated, and stale files are removed. */
export const GENERATED_DIRS = ['dashboards', 'runbooks', 'examples/retailflow/prometheus'] as const;

/** Where the RetailFlow rules go. */
export const PROMETHEUS_DIR = 'examples/retailflow/prometheus';

/** File names of the operational rule file and its promtool tests. */
export const OPERATIONAL_RULES = 'operational-alerts.yaml';
export const OPERATIONAL_TESTS = 'operational-alerts.test.yaml';

/** File name of the SLO rules, and the directory (under {@link PROMETHEUS_DIR}) of their promtool tests. */
export const SLO_RULES = 'slo-rules.yaml';
export const SLO_TESTS_DIR = 'slo-tests';

/** A Prometheus configuration that scrapes a local RetailFlow and loads the rules (`promtool check config`). */
export const PROMETHEUS_CONFIG = 'prometheus.yml';

/**
 * Every generated file: path relative to the repository root → content. Reads the SLO spec under `root`;
 * otherwise pure: same inputs, same bytes.
 */
export function generateFiles(root: string = REPOSITORY_ROOT): Map<string, string> {
  const files = new Map<string, string>();
  const slo = sloArtifacts(root, REPOSITORY_URL);
  const recorded = new Set(rulesIn(slo.rules).flatMap((r) => (r.record ? [r.record] : [])));
  const dashboards = dashboardSpecs(recorded);
  const refs: DashboardRef[] = dashboards.map((d) => ({ uid: d.uid, title: d.title, file: `${d.uid}.json` }));

  for (const spec of dashboards) files.set(`dashboards/${spec.uid}.json`, stableJson(buildDashboard(spec)));

  files.set(
    `${PROMETHEUS_DIR}/${OPERATIONAL_RULES}`,
    operationalRuleFile(OPERATIONAL_ALERTS, 'ballast-operational'),
  );
  files.set(
    `${PROMETHEUS_DIR}/${OPERATIONAL_TESTS}`,
    operationalRuleTests(OPERATIONAL_ALERTS, OPERATIONAL_RULES),
  );

  files.set(`${PROMETHEUS_DIR}/${SLO_RULES}`, slo.rules);
  files.set(`${PROMETHEUS_DIR}/${PROMETHEUS_CONFIG}`, prometheusConfig([OPERATIONAL_RULES, SLO_RULES]));
  for (const test of slo.tests) files.set(`${PROMETHEUS_DIR}/${SLO_TESTS_DIR}/${test.path}`, test.content);

  const pages = runbookPages(slo.runbooks);
  for (const page of pages) files.set(`runbooks/${page.name}.md`, renderRunbook(page, refs));
  const index: IndexEntry[] = pages.map((p) => ({
    name: p.name,
    severity: p.severity,
    summary: p.summary,
    ruleFile: p.ruleFile,
  }));
  files.set('runbooks/README.md', renderIndex(index, refs));
  files.set('runbooks/incident-response.md', renderIncidentResponse());
  files.set('runbooks/postmortem-template.md', renderPostmortemTemplate());
  files.set('runbooks/oncall-handoff.md', renderHandoffChecklist(refs));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A runbook page and the rule file its alert is in. */
export type RunbookPageOf = RunbookPage & { readonly ruleFile: string };

/** Every runbook page: the operational alerts', then the SLO burn-rate alerts' (`slo` from {@link sloArtifacts}). */
export function runbookPages(
  slo: readonly RunbookPage[] = sloArtifacts(REPOSITORY_ROOT, REPOSITORY_URL).runbooks,
): RunbookPageOf[] {
  return [
    ...OPERATIONAL_ALERTS.map((alert) => ({
      name: alert.name,
      severity: alert.severity,
      summary: alert.summary,
      expr: alert.expr,
      source: `\`${PROMETHEUS_DIR}/${OPERATIONAL_RULES}\``,
      runbook: alert.runbook,
      ruleFile: OPERATIONAL_RULES,
    })),
    ...slo.map((page) => ({ ...page, ruleFile: SLO_RULES })),
  ];
}

/** The rule files Prometheus loads: `*.yaml` directly under {@link PROMETHEUS_DIR} (tests excluded). */
export function ruleFilesOf(files: ReadonlyMap<string, string>): Map<string, RuleEntry[]> {
  const out = new Map<string, RuleEntry[]>();
  for (const [path, content] of files) {
    const name = path.slice(PROMETHEUS_DIR.length + 1);
    if (path.startsWith(`${PROMETHEUS_DIR}/`) && !name.includes('/') && isRuleFile(name))
      out.set(path, rulesIn(content));
  }
  return out;
}

/** True for a rules file name (`.yaml`/`.yml`), false for a promtool test file (`.test.yaml`/`.test.yml`). */
export function isRuleFile(name: string): boolean {
  return /\.ya?ml$/.test(name) && !/\.test\.ya?ml$/.test(name) && name !== PROMETHEUS_CONFIG;
}

/** Series the generated recording rules record (dashboards may query them besides the catalog). */
export function recordedSeries(files: ReadonlyMap<string, string> = generateFiles()): Set<string> {
  const out = new Set<string>();
  for (const rules of ruleFilesOf(files).values()) for (const r of rules) if (r.record) out.add(r.record);
  return out;
}

/** The dashboards as generated (with the SLO recording rules of the spec under `root`). */
export function generatedDashboards(root: string = REPOSITORY_ROOT): DashboardSpec[] {
  return dashboardSpecs(recordedSeries(generateFiles(root)));
}
