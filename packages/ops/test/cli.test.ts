import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runOpsCli } from '../src/cli/main.js';
import { parseServiceFile } from '../src/service.js';
import { REPOSITORY_ROOT, generateFiles } from './support/retailflow.js';

// `ballast-ops generate` for a service that is not RetailFlow: SLO files alone, then bad input.

const SHOP_SLOS = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: shop-availability
  displayName: Shop availability
spec:
  service: shop
  indicator:
    metadata:
      name: shop-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_server_request_duration_seconds_count{job="shop",http_response_status_code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_server_request_duration_seconds_count{job="shop"}
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.995
`;

const dir = mkdtempSync(join(tmpdir(), 'ballast-ops-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'shop.yaml'), SHOP_SLOS);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runOpsCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: dir,
  });
  return { code, stdout, stderr };
}

function promtool(args: string[], cwd: string): { code: number; output: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

function documents(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as unknown);
}

describe('ballast-ops generate with SLO files alone', () => {
  const out = join(dir, 'out');
  let result: { code: number; stdout: string; stderr: string };

  it('writes dashboards, rules, promtool tests, Kubernetes resources and runbooks, and exits 0', async () => {
    result = await cli(['generate', '--slos', 'shop.yaml', '--out', 'out']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readdirSync(join(out, 'dashboards')).sort()).toEqual([
      'ballast-red.json',
      'ballast-resilience.json',
      'ballast-slo-detail.json',
      'ballast-slo-overview.json',
      'ballast-use.json',
    ]);
    expect(readdirSync(join(out, 'prometheus'))).toEqual(
      expect.arrayContaining([
        'operational-alerts.yaml',
        'operational-alerts.test.yaml',
        'slo-rules.yaml',
        'prometheus.yml',
      ]),
    );
    expect(readdirSync(join(out, 'kubernetes')).sort()).toEqual([
      'analysistemplates.yaml',
      'prometheusrule-operational.yaml',
      'prometheusrule-slo.yaml',
    ]);
  });

  it('has one runbook per alert, with generic text and no RetailFlow in it', () => {
    const runbooks = readdirSync(join(out, 'runbooks'));
    for (const name of [
      'BallastTargetDown.md',
      'BallastTargetMissing.md',
      'ShopAvailabilitySliNoData.md',
      'ShopAvailabilityBurnRatePage.md',
      'BallastCircuitBreakerStuckOpen.md',
    ])
      expect(runbooks).toContain(name);
    for (const file of runbooks) {
      const text = readFileSync(join(out, 'runbooks', file), 'utf8');
      expect(text, file).not.toMatch(/retailflow|RETAILFLOW|ADMIN_KEY/i);
    }
    const page = readFileSync(join(out, 'runbooks/BallastCircuitBreakerStuckOpen.md'), 'utf8');
    for (const heading of ['## Meaning', '## Impact', '## Diagnosis', '## Mitigation'])
      expect(page).toContain(heading);
    expect(page).toContain('export SERVICE_URL=http://127.0.0.1:8080  # your instance');
    expect(page).toContain('curl -s "$SERVICE_URL/metrics"');
  });

  it("scrapes job `shop` (the SLOs' service) and links runbooks relatively", () => {
    const rules = readFileSync(join(out, 'prometheus/operational-alerts.yaml'), 'utf8');
    expect(rules).toContain('expr: up{job="shop"} == 0');
    expect(rules).toContain('runbook_url: runbooks/BallastTargetDown.md');
    expect(readFileSync(join(out, 'prometheus/prometheus.yml'), 'utf8')).toContain('job_name: shop');
  });

  it(
    'promtool passes every generated rule file and test (the absence alerts fire and resolve)',
    { timeout: 180_000 },
    () => {
      const prom = join(out, 'prometheus');
      const check = promtool(['check', 'rules', 'operational-alerts.yaml', 'slo-rules.yaml'], prom);
      expect(check.code, check.output).toBe(0);
      const config = promtool(['check', 'config', 'prometheus.yml'], prom);
      expect(config.code, config.output).toBe(0);
      const tests = [
        'operational-alerts.test.yaml',
        ...readdirSync(join(prom, 'slo-tests'))
          .filter((f) => f.endsWith('.test.yaml'))
          .map((f) => `slo-tests/${f}`),
      ];
      for (const test of tests) {
        const cwd = join(prom, test.includes('/') ? 'slo-tests' : '');
        const r = promtool(['test', 'rules', test.split('/').pop()!], cwd);
        expect(r.code, `${test}\n${r.output}`).toBe(0);
      }
    },
  );

  it('a broken absence expectation makes promtool fail (the tests can fail)', () => {
    const prom = join(out, 'prometheus');
    const content = readFileSync(join(prom, 'operational-alerts.test.yaml'), 'utf8');
    writeFileSync(
      join(prom, 'broken.test.yaml'),
      content.replaceAll('alertname: BallastTargetDown', 'alertname: BallastTargetMissing'),
    );
    const r = promtool(['test', 'rules', 'broken.test.yaml'], prom);
    rmSync(join(prom, 'broken.test.yaml'));
    expect(r.code).not.toBe(0);
  });

  it('the Kubernetes resources validate against the prometheus-operator and Argo Rollouts models', () => {
    const k8s = join(out, 'kubernetes');
    for (const file of ['prometheusrule-operational.yaml', 'prometheusrule-slo.yaml']) {
      for (const doc of documents(join(k8s, file))) {
        const rule = new PrometheusRule(doc as ConstructorParameters<typeof PrometheusRule>[0]);
        expect(() => rule.validate(), file).not.toThrow();
        expect(rule.spec.groups!.length).toBeGreaterThan(0);
      }
    }
    const templates = documents(join(k8s, 'analysistemplates.yaml'));
    expect(templates).toHaveLength(1);
    const template = new AnalysisTemplate(templates[0] as ConstructorParameters<typeof AnalysisTemplate>[0]);
    expect(() => template.validate()).not.toThrow();
    const metric = template.spec.metrics[0]!;
    expect(metric.successCondition).toBe('len(result) > 0 && result[0] < 14.4');
    expect(metric.provider.prometheus!.query).toContain('/ 0.005');
    // The validator can fail: a metric without a provider is rejected.
    const broken = new AnalysisTemplate({
      metadata: { name: 'x' },
      spec: { metrics: [{ name: 'm' }] },
    } as never);
    expect(() => broken.validate()).toThrow(/provider/);
  });

  it('--check exits 0 when the files are up to date and 1 naming the file that is not', async () => {
    const ok = await cli(['generate', '--slos', 'shop.yaml', '--out', 'out', '--check']);
    expect(ok.code, ok.stderr).toBe(0);
    writeFileSync(join(out, 'runbooks/README.md'), 'edited by hand\n');
    const stale = await cli(['generate', '--slos', 'shop.yaml', '--out', 'out', '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('runbooks/README.md');
  });
});

describe('ballast-ops generate with bad input', () => {
  it.each([
    ['an unknown field', 'name: shop\njobb: shop\n', /^svc\.yaml:2:1: jobb: unknown field `jobb`/],
    ['a wrong type', 'name: shop\ntarget: [1]\n', /^svc\.yaml:2:9: target: expected must be string/],
    ['a bad name', 'name: Shop Service\n', /^svc\.yaml:1:7: name: expected a value matching/],
    ['no name', 'job: shop\n', /^svc\.yaml:1:1: expected a field `name`/],
    [
      'a lever that does not exist',
      'name: shop\nlevers:\n  rollback:\n    step: Roll back.\nalerts:\n  BallastTargetDown:\n    levers: [restart]\n',
      /^svc\.yaml:7:14: alerts\.BallastTargetDown\.levers\[0\]: expected one of the levers `rollback`, got `restart`/,
    ],
    ['broken YAML', 'name: shop\nshell: {env: \n', /^svc\.yaml:\d+:\d+: /],
  ])('a service file with %s: file:line:col and exit 1', async (_, text, expected) => {
    writeFileSync(join(dir, 'svc.yaml'), text);
    const r = await cli(['generate', '--slos', 'shop.yaml', '--service', 'svc.yaml', '--out', 'bad-out']);
    expect(r.stderr).toMatch(expected);
    expect(r.code).toBe(1);
    expect(existsSync(join(dir, 'bad-out'))).toBe(false);
  });

  it('a bad SLO spec: file:line:col and exit 1', async () => {
    writeFileSync(join(dir, 'bad-slo.yaml'), SHOP_SLOS.replace('target: 0.995', 'target: 1.5'));
    const r = await cli(['generate', '--slos', 'bad-slo.yaml', '--out', 'bad-out']);
    expect(r.stderr).toMatch(/^bad-slo\.yaml:\d+:\d+: spec\.objectives\[0\]\.target: /);
    expect(r.code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['generate', '--out', 'x'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['generate', '--slos', 'shop.yaml', '--out', 'x', '--nope'])).code).toBe(2);
  });
});

describe("RetailFlow's service file", () => {
  it('validates, and npm run generate writes what is committed (the CLI with it)', () => {
    const file = 'examples/retailflow/ops.service.yaml';
    const parsed = parseServiceFile(readFileSync(join(REPOSITORY_ROOT, file), 'utf8'), file);
    expect('errors' in parsed ? parsed.errors : []).toEqual([]);
    for (const [path, content] of generateFiles()) {
      expect(existsSync(join(REPOSITORY_ROOT, path)), `${path}: run npm run generate`).toBe(true);
      expect(
        readFileSync(join(REPOSITORY_ROOT, path), 'utf8') === content,
        `${path}: run npm run generate`,
      ).toBe(true);
    }
  });
});
