import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateFiles,
  generatedDashboards,
  recordedSeries,
  ruleFilesOf,
  runbookPages,
  loadCatalog,
  operationalAlerts,
  RUNBOOK_BASE_URL,
  SERVICE,
} from './support/retailflow.js';
import { resolveMetric } from '../src/grafana/lint.js';
import { buildDashboard } from '../src/grafana/model.js';
import { panelsOf } from '../src/grafana/lint.js';
import { selectorsOf } from '../src/promql.js';

const root = join(import.meta.dirname, '../../..');
const files = generateFiles();
const DASHBOARDS = generatedDashboards();
const alerts = [...ruleFilesOf(files).values()].flat().filter((r) => r.alert !== undefined);
const alertNames = new Set(alerts.map((a) => a.alert!));
const PROCESS_DOCS = new Set([
  'README.md',
  'incident-response.md',
  'postmortem-template.md',
  'oncall-handoff.md',
]);
const pageFiles = [...files.keys()]
  .filter((p) => p.startsWith('runbooks/') && p.endsWith('.md'))
  .map((p) => p.slice('runbooks/'.length));

describe('alerts and runbooks', () => {
  it('every /metrics command reaches the metrics the way the service file says (listener and token)', () => {
    for (const page of pageFiles) {
      const text = files.get(`runbooks/${page}`)!;
      for (const line of text.split('\n').filter((l) => /curl .*\/metrics"/.test(l))) {
        expect(line.trim(), page).toMatch(
          new RegExp(`^${SERVICE.shell.metrics.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')}`),
        );
      }
    }
  });

  it("every breaker a runbook names is one of RetailFlow's", () => {
    const source = readFileSync(join(root, 'examples/retailflow/src/wiring/policies.ts'), 'utf8');
    const breakers = new Set([...source.matchAll(/name: '([a-z-]+-breaker)'/g)].map((m) => m[1]!));
    expect(breakers.size).toBeGreaterThan(0);
    for (const page of pageFiles) {
      for (const m of files.get(`runbooks/${page}`)!.matchAll(/`([a-z-]+-breaker)`/g)) {
        expect(breakers, `${page} names ${m[1]!}`).toContain(m[1]);
      }
    }
  });

  // On-call sets the dashboards' variables from the alert's labels: a runbook may only ask for labels the firing
  // alert carries (the promtool cases state them exactly; the SLO alerts carry their rule's static labels).
  it.each(alerts.map((a) => [a.alert!, a] as const))(
    '%s: the runbook takes from the alert only labels the alert carries',
    (name, rule) => {
      const tested = operationalAlerts().find((a) => a.name === name);
      const carried = new Set([
        ...Object.keys(rule.labels),
        ...(tested?.tests.flatMap((t) => t.firing.flatMap((f) => Object.keys(f.labels))) ?? []),
      ]);
      const page = files.get(`runbooks/${name}.md`)!;
      const line = page.split('\n').find((l) => l.includes('Open the dashboards'))!;
      expect(line, `${name}.md has no dashboard step`).toBeDefined();
      const asked = /to the ones in the alert labels/.test(line)
        ? [...line.matchAll(/`(\w+)`/g)].map((m) => m[1]!)
        : [...line.matchAll(/(?:alert's|its) `(\w+)` label/g)].map((m) => m[1]!);
      for (const label of asked) expect(carried, `${name}.md asks for the alert's ${label}`).toContain(label);
    },
  );

  it('generates rule files with the operational alerts', () => {
    for (const name of [
      'BallastCircuitBreakerStuckOpen',
      'BallastTargetDown',
      'BallastTargetMissing',
      ...SERVICE.customAlerts.map((a) => a.name),
    ])
      expect(alertNames).toContain(name);
  });

  it.each(alerts.map((a) => [a.alert!, a] as const))(
    '%s has severity, summary, description and a runbook_url that resolves to runbooks/<AlertName>.md',
    (name, rule) => {
      expect(rule.labels.severity).toMatch(/^(critical|warning|page|ticket)$/);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
      const url = rule.annotations.runbook_url ?? '';
      expect(url).toBe(`${RUNBOOK_BASE_URL}${name}.md`);
      const page = url.slice(RUNBOOK_BASE_URL.length);
      expect(files.has(`runbooks/${page}`)).toBe(true);
      expect(
        existsSync(join(root, 'runbooks', page)),
        `runbooks/${page} is not on disk: run npm run generate`,
      ).toBe(true);
    },
  );

  it('every runbook page names an alert that exists, and the page titles itself with it', () => {
    const orphans = pageFiles.filter((p) => !PROCESS_DOCS.has(p) && !alertNames.has(p.replace(/\.md$/, '')));
    expect(orphans).toEqual([]);
    for (const name of alertNames) expect(files.get(`runbooks/${name}.md`)).toContain(`# ${name}\n`);
  });

  it('the index lists every alert and the process documents', () => {
    const index = files.get('runbooks/README.md')!;
    for (const name of alertNames) expect(index).toContain(`](${name}.md)`);
    for (const doc of PROCESS_DOCS) if (doc !== 'README.md') expect(index).toContain(`](${doc})`);
  });

  it('every runbook has Meaning, Impact, Diagnosis and Mitigation, with PromQL and a curl', () => {
    for (const name of alertNames) {
      const page = files.get(`runbooks/${name}.md`)!;
      for (const heading of ['## Meaning', '## Impact', '## Diagnosis', '## Mitigation'])
        expect(page).toContain(heading);
      expect(page).toContain('```promql');
      expect(page).toMatch(/curl -s/);
    }
  });

  it('every dashboard panel a runbook sends the on-call to exists', () => {
    for (const alert of runbookPages()) {
      for (const ref of alert.runbook.panels) {
        const spec = DASHBOARDS.find((d) => d.uid === ref.dashboard);
        expect(spec, `${alert.name}: dashboard ${ref.dashboard}`).toBeDefined();
        const titles = panelsOf(buildDashboard(spec!)).map((p) => p.title);
        expect(titles, `${alert.name}: panel "${ref.panel}"`).toContain(ref.panel);
      }
    }
  });

  it('every alert expression and diagnosis query parses and uses catalog metrics or recorded series only', () => {
    const catalog = loadCatalog();
    const recorded = recordedSeries(files);
    const extra = new Set([...SERVICE.metrics, 'up', 'scrape_duration_seconds']);
    for (const alert of runbookPages()) {
      for (const expr of [alert.expr, ...alert.runbook.queries.map((q) => q.expr)]) {
        for (const use of selectorsOf(expr.replace('"<tenant>"', '"t"'))) {
          const known =
            use.metric !== undefined &&
            (resolveMetric(use.metric, catalog) || extra.has(use.metric) || recorded.has(use.metric));
          expect(known, `${alert.name}: ${String(use.metric)} in ${expr}`).toBeTruthy();
        }
      }
    }
  });
});
