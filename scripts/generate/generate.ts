import { OPERATIONAL_ALERTS } from './alerts/index.js';
import { DASHBOARDS } from './dashboards/index.js';
import { buildDashboard, stableJson } from './grafana/model.js';
import { operationalRuleFile, operationalRuleTests, rulesIn, type RuleEntry } from './prometheus/rules.js';
import {
  renderHandoffChecklist,
  renderIncidentResponse,
  renderIndex,
  renderPostmortemTemplate,
  type IndexEntry,
} from './runbooks/docs.js';
import { renderRunbook, type DashboardRef } from './runbooks/render.js';

/** The directories `generate` owns: every file in them is generated, and stale files are removed. */
export const GENERATED_DIRS = ['dashboards', 'runbooks', 'examples/retailflow/prometheus'] as const;

/** Where the RetailFlow rules go. */
export const PROMETHEUS_DIR = 'examples/retailflow/prometheus';

/** File names of the operational rule file and its promtool tests. */
export const OPERATIONAL_RULES = 'operational-alerts.yaml';
export const OPERATIONAL_TESTS = 'operational-alerts.test.yaml';

/** Every generated file: path relative to the repository root → content. Pure: same inputs, same bytes. */
export function generateFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const refs: DashboardRef[] = DASHBOARDS.map((d) => ({ uid: d.uid, title: d.title, file: `${d.uid}.json` }));

  for (const spec of DASHBOARDS) files.set(`dashboards/${spec.uid}.json`, stableJson(buildDashboard(spec)));

  files.set(
    `${PROMETHEUS_DIR}/${OPERATIONAL_RULES}`,
    operationalRuleFile(OPERATIONAL_ALERTS, 'ballast-operational'),
  );
  files.set(
    `${PROMETHEUS_DIR}/${OPERATIONAL_TESTS}`,
    operationalRuleTests(OPERATIONAL_ALERTS, OPERATIONAL_RULES),
  );

  const index: IndexEntry[] = [];
  for (const alert of OPERATIONAL_ALERTS) {
    files.set(
      `runbooks/${alert.name}.md`,
      renderRunbook(
        {
          name: alert.name,
          severity: alert.severity,
          summary: alert.summary,
          expr: alert.expr,
          source: `\`${PROMETHEUS_DIR}/${OPERATIONAL_RULES}\``,
          runbook: alert.runbook,
        },
        refs,
      ),
    );
    index.push({
      name: alert.name,
      severity: alert.severity,
      summary: alert.summary,
      ruleFile: OPERATIONAL_RULES,
    });
  }
  files.set('runbooks/README.md', renderIndex(index, refs));
  files.set('runbooks/incident-response.md', renderIncidentResponse());
  files.set('runbooks/postmortem-template.md', renderPostmortemTemplate());
  files.set('runbooks/oncall-handoff.md', renderHandoffChecklist(refs));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Rule files among the generated files (`*.yaml` under {@link PROMETHEUS_DIR}, tests excluded). */
export function ruleFilesOf(files: ReadonlyMap<string, string>): Map<string, RuleEntry[]> {
  const out = new Map<string, RuleEntry[]>();
  for (const [path, content] of files) {
    if (path.startsWith(`${PROMETHEUS_DIR}/`) && path.endsWith('.yaml') && !path.endsWith('.test.yaml'))
      out.set(path, rulesIn(content));
  }
  return out;
}

/** Series the generated recording rules record (dashboards may query them besides the catalog). */
export function recordedSeries(files: ReadonlyMap<string, string> = generateFiles()): Set<string> {
  const out = new Set<string>();
  for (const rules of ruleFilesOf(files).values()) for (const r of rules) if (r.record) out.add(r.record);
  return out;
}
