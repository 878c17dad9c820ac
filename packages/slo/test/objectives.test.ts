import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@ballast/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SloEngine } from '../src/engine/engine.js';
import type { Slo } from '../src/model.js';
import { loadSlos } from '../src/openslo/load.js';
import { parseSpecs } from '../src/openslo/parse.js';
import { engineReport } from '../src/report/from-engine.js';
import { renderMarkdownReport } from '../src/report/markdown.js';
import { generateRules } from '../src/rules/generate.js';
import { generateRuleTests } from '../src/rules/tests.js';
import { promtool, tool } from './rules-tools.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'openslo');
const hasPromtool = tool('promtool');
const HOUR = 3_600_000;

function byName(slos: readonly Slo[], name: string): Slo {
  const slo = slos.find((s) => s.name === name);
  if (!slo) throw new Error(`no SLO ${name} in ${slos.map((s) => s.name).join(', ')}`);
  return slo;
}

describe('SLOs with several objectives (OpenSLO `objectives: [...]`)', () => {
  let slos: Slo[];
  beforeAll(async () => {
    slos = await loadSlos(['examples.yaml'], fixtures);
  });

  it('gives each objective its own SLO, named `<slo>-<objective>`, labelled and located', () => {
    expect(slos.map((s) => [s.name, s.displayName, s.objective])).toEqual([
      [
        'service-availability-internal-objective',
        'Reflection of our availability SLA: Internal objective',
        0.995,
      ],
      ['service-availability-sla', 'Reflection of our availability SLA: SLA', 0.99],
      ['search-slo-good-experience', 'Searching time: Good experience', 0.99],
      ['search-slo-tolerable', 'Searching time: Tolerable (2s)', 0.999],
      ['foo-slo-foo-total-errors', 'Foo SLO: Foo Total Errors', 0.98],
      ['foo-slo-bar-total-errors', 'Foo SLO: Bar Total Errors', 0.9999],
    ]);
    const sla = byName(slos, 'service-availability-sla');
    expect(sla.objectiveOf).toEqual({ slo: 'service-availability', objective: 'sla', index: 1 });
    expect(sla.labels).toEqual({ objective: 'sla' });
    expect(sla.source).toEqual({ file: 'examples.yaml', line: 50, column: 7 });
    expect(sla.budgeting).toEqual({
      method: 'Timeslices',
      timesliceTarget: 0.99,
      timesliceWindow: '1m',
      timesliceWindowMs: 60_000,
    });
    // A threshold SLI: each objective's `value` is its own latency threshold (`op: lt` reads the bucket too).
    expect(byName(slos, 'search-slo-good-experience').indicator).toMatchObject({
      kind: 'latency',
      le: '0.5',
    });
    expect(byName(slos, 'search-slo-tolerable').indicator).toMatchObject({ kind: 'latency', le: '2' });
  });

  it('maps AlertPolicy and AlertCondition documents (by reference and inline) onto each objective', () => {
    for (const name of ['service-availability-internal-objective', 'service-availability-sla']) {
      expect(
        byName(slos, name).alerting.conditions.map((c) => [
          c.name,
          c.severity,
          c.burnRate,
          c.longWindow,
          c.shortWindow,
          c.for,
        ]),
      ).toEqual([
        ['fast-burn', 'page', 14.4, '1h', '5m', '2m'],
        ['slow-burn', 'ticket', 2, '1d', '2h', undefined],
      ]);
    }
    // Without a policy, each objective gets the Workbook's conditions scaled to the period.
    expect(byName(slos, 'foo-slo-bar-total-errors').alerting.conditions.map((c) => c.longWindow)).toEqual([
      '56m',
      '5h36m',
      '22h24m',
      '2d19h12m',
    ]);
  });

  it('reports an objective whose `<slo>-<key>` is another SLO’s name, at the objective', () => {
    const text = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: api
spec:
  service: api
  indicator:
    metadata: { name: api-requests }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'requests_total{code=~"5.."}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: requests_total } } }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives:
    - { name: fast, target: 0.99 }
    - { name: strict, target: 0.999 }
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-strict
spec:
  service: api
  indicator:
    metadata: { name: api-strict-requests }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'requests_total{code=~"5.."}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: requests_total } } }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.9 }]
`;
    const { slos: none, errors } = parseSpecs([{ file: 'clash.yaml', text }]);
    expect(none).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: 'clash.yaml', line: 23, path: 'metadata.name' });
    expect(errors[0]!.message).toContain('`api-strict` is also the SLO at clash.yaml:18:7');
  });

  it('records events given under the document name for every objective, each against its own budget', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const engine = new SloEngine({ slos, clock, evaluateEveryMs: 0 });
    clock.advance(HOUR);
    engine.record('foo-slo', 990, 10); // 1% errors
    const foo = engine.status('foo-slo-foo-total-errors');
    const bar = engine.status('foo-slo-bar-total-errors');
    expect(foo.events).toEqual({ good: 990, bad: 10 });
    expect(bar.events).toEqual(foo.events);
    // The same traffic burns a 2% budget at 0.5x and a 0.01% budget at 100x (over the 56m page window).
    const burn = (status: typeof foo): number => status.burnRates.find((b) => b.window === '56m')!.rate;
    expect(burn(foo)).toBeCloseTo(0.5, 9);
    expect(burn(bar)).toBeCloseTo(100, 9);
    expect(foo.errorBudget.consumedRatio).toBeLessThan(0.001);
    expect([foo.policy, bar.policy]).toEqual(['ok', 'ok']); // a 28-day budget: an hour of 100x spends 15%
    expect(foo.alerts.filter((a) => a.firing)).toEqual([]);
    expect(bar.alerts.filter((a) => a.firing && a.severity === 'page').length).toBeGreaterThan(0);

    // A latency observation is judged against each objective's own threshold.
    engine.recordLatency('search-slo', 1.2);
    engine.recordLatency('search-slo', 0.1);
    expect(engine.status('search-slo-good-experience').events).toEqual({ good: 1, bad: 1 });
    expect(engine.status('search-slo-tolerable').events).toEqual({ good: 2, bad: 0 });
    // One objective alone can still be recorded by its own name.
    engine.recordEvent('foo-slo-foo-total-errors', false);
    expect(engine.status('foo-slo-foo-total-errors').events.bad).toBe(11);
    expect(engine.status('foo-slo-bar-total-errors').events.bad).toBe(10);
    engine.close();
  });

  it('writes each objective’s series, alerts and report line', () => {
    const { groups, alerts } = generateRules(slos);
    expect(groups.map((g) => g.name)).toContain(
      'slo-web-availability-foo-slo-bar-total-errors-sli-and-alerts',
    );
    expect(alerts.filter((a) => a.slo.startsWith('foo-slo-')).map((a) => a.alert)).toEqual([
      'WebAvailabilityFooSloFooTotalErrorsBurnRatePage',
      'WebAvailabilityFooSloFooTotalErrorsBurnRateTicket',
      'WebAvailabilityFooSloBarTotalErrorsBurnRatePage',
      'WebAvailabilityFooSloBarTotalErrorsBurnRateTicket',
    ]);
    const objectiveRule = groups
      .flatMap((g) => g.rules)
      .find(
        (r) =>
          'record' in r && r.record === 'slo:objective:ratio' && r.labels.slo === 'foo-slo-bar-total-errors',
      );
    expect(objectiveRule).toMatchObject({
      expr: 'vector(0.9999)',
      labels: { objective: 'bar-total-errors', slo: 'foo-slo-bar-total-errors', service: 'web-availability' },
    });

    const start = Date.UTC(2026, 0, 1);
    const report = engineReport(slos, [
      { at: start, slo: 'foo-slo', good: 0, bad: 0 },
      { at: start + HOUR, slo: 'foo-slo', good: 990, bad: 10 },
    ]);
    const markdown = renderMarkdownReport(report);
    expect(report.entries.map((e) => e.slo.name)).toEqual(slos.map((s) => s.name));
    expect(markdown).toContain('Foo SLO: Foo Total Errors');
    expect(markdown).toContain('Foo SLO: Bar Total Errors');
  });
});

describe.skipIf(hasPromtool.skip)('several objectives under promtool', { timeout: 900_000 }, () => {
  let slos: Slo[];
  let dir: string;
  beforeAll(async () => {
    slos = (await loadSlos(['examples.yaml'], fixtures)).filter((s) => s.objectiveOf?.slo === 'foo-slo');
    dir = mkdtempSync(join(tmpdir(), 'ballast-objectives-'));
  });

  it('pages the strict objective and not the loose one on the same 1% errors', async () => {
    writeFileSync(join(dir, 'rules.yml'), generateRules(slos).yaml);
    const [foo, bar] = slos as [Slo, Slo];
    writeFileSync(
      join(dir, 'objectives.test.yml'),
      stringify({
        rule_files: ['rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: 'http_requests_total{job="foo",code="500"}', values: '0+1x180' },
              { series: 'http_requests_total{job="foo",code="200"}', values: '0+99x180' },
            ],
            // Which SLOs page after two hours of 1% errors: the 99.99% objective, not the 98% one.
            promql_expr_test: [
              {
                expr: 'count by (slo, objective) (ALERTS{alertstate="firing",severity="page"})',
                eval_time: '2h',
                exp_samples: [{ labels: `{slo="${bar.name}",objective="bar-total-errors"}`, value: 1 }],
              },
            ],
          },
        ],
      }),
    );
    const r = await promtool(['test', 'rules', 'objectives.test.yml'], dir);
    expect(r, r.output).toMatchObject({ code: 0 });
    expect(foo.objective).toBe(0.98);
  });

  it('passes the generated promtool tests of each objective (both rule forms, identical decisions)', async () => {
    const files = generateRuleTests(slos);
    for (const f of files) writeFileSync(join(dir, f.path), f.content);
    const tests = files.filter((f) => f.kind === 'tests');
    expect(tests.map((f) => f.path)).toEqual([
      'foo-slo-foo-total-errors.test.yml',
      'foo-slo-bar-total-errors.test.yml',
    ]);
    const results = await Promise.all(
      tests.map(async (f) => ({ path: f.path, ...(await promtool(['test', 'rules', f.path], dir)) })),
    );
    for (const r of results) expect(r, r.output).toMatchObject({ code: 0 });
  });
});
