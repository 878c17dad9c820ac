import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('from the alert to one failing request (exemplar → trace → logs)', () => {
  const checkout = files.get('runbooks/RetailflowCheckoutAvailabilityBurnRatePage.md')!;
  const block = (text: string, containing: string): string[] =>
    [...text.matchAll(/```sh\n([\s\S]*?)```/g)]
      .map((m) => m[1]!.split('\n').map((l) => l.trim()))
      .find((lines) => lines.some((l) => l.includes(containing)))!
      .filter(Boolean);

  it('SLO runbooks on the request histogram and alerts with an exemplars hint walk it; the outbox SLO does not', () => {
    for (const name of alertNames) {
      const page = files.get(`runbooks/${name}.md`)!;
      const walks = page.includes('### From the alert to one failing request');
      expect(walks, name).toBe(
        /^Retailflow(Checkout|Catalog).*BurnRate/.test(name) || name === 'BallastCircuitBreakerStuckOpen',
      );
    }
    expect(checkout).toContain('panel **Latency p50 / p99 by route**, with *Exemplars* on');
    const exemplars = block(checkout, 'query_exemplars').find((l) => l.includes('query_exemplars'))!;
    const selector = /'query=([^']+)'/.exec(exemplars)![1]!;
    // The failed checkouts only, from the service file's hint, on a series the request histogram has.
    expect(selector).toBe(
      'http_server_request_duration_seconds_bucket{http_route="/api/v1/orders",http_request_method="POST",http_response_status_code=~"5.."}',
    );
    expect(loadCatalog().map((m) => m.name)).toContain('http_server_request_duration_seconds');
    expect(files.get('runbooks/RetailflowCatalogLatencyBurnRatePage.md')).toContain(
      `'query=http_server_request_duration_seconds_bucket{http_route=~"/api/v1/products.*",http_request_method="GET"}'`,
    );
  });

  it.skipIf(!existsSync('/usr/bin/jq') && !existsSync('/usr/local/bin/jq'))(
    "the log queries find the request's lines by trace_id and every warning, skipping lines that are not JSON",
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'ballast-logs-'));
      try {
        const log = join(dir, 'retailflow.log');
        const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
        const lines = [
          'RetailFlow listening on http://127.0.0.1:3000 (development)',
          { level: 30, time: 1, service: 'retailflow', msg: 'request completed', trace_id: 'other' },
          {
            level: 50,
            time: 2,
            service: 'retailflow',
            msg: 'request failed',
            trace_id: trace,
            route: '/api/v1/orders',
            tenant: 'acme',
            err: { message: 'provider down' },
          },
          {
            level: 40,
            time: 3,
            service: 'retailflow',
            msg: 'checkout failed',
            trace_id: trace,
            tenant: 'acme',
          },
        ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
        writeFileSync(log, `${lines.join('\n')}\n`);
        // The two lines of the alert-to-log step (the checkout runbook's other jq lines read RETAILFLOW_LOG).
        const steps = block(checkout, SERVICE.logs.command).filter((c) => c.includes("jq -cR 'fromjson?"));
        const [byTrace, warnings] = steps.map((command) =>
          execFileSync(
            'bash',
            ['-c', command.replace(SERVICE.logs.command, `cat ${log}`).replace('<trace_id>', trace)],
            {
              encoding: 'utf8',
            },
          )
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        );
        expect(byTrace!.map((l) => l.time)).toEqual([2, 3]);
        expect(warnings).toEqual([
          {
            time: 2,
            level: 50,
            msg: 'request failed',
            trace_id: trace,
            route: '/api/v1/orders',
            tenant: 'acme',
            err: 'provider down',
          },
          {
            time: 3,
            level: 40,
            msg: 'checkout failed',
            trace_id: trace,
            route: null,
            tenant: 'acme',
            err: null,
          },
        ]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
