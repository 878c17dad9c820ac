import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { defineSlo } from '../src/define.js';
import type { Slo } from '../src/model.js';
import { generateRules } from '../src/rules/generate.js';
import { generateRuleTests, type RuleTestFile } from '../src/rules/tests.js';
import { loadSlos } from '../src/openslo/load.js';
import { promtool, tool } from './rules-tools.js';

const examples = join(import.meta.dirname, '..', 'examples', 'shop', 'slos.yaml');
const hasPromtool = tool('promtool');

describe('generateRuleTests', () => {
  it('writes a rules file and a test file per SLO, with the four properties as test groups', async () => {
    const slos = await loadSlos([examples]);
    const files = generateRuleTests(slos);
    expect(files.map((f) => f.path)).toEqual([
      'checkout-availability.rules.yml',
      'checkout-availability.raw-form.rules.yml',
      'checkout-availability.test.yml',
      'checkout-latency.rules.yml',
      'checkout-latency.raw-form.rules.yml',
      'checkout-latency.test.yml',
      'search-availability.rules.yml',
      'search-availability.raw-form.rules.yml',
      'search-availability.test.yml',
    ]);
    const tests = files.find((f) => f.path === 'checkout-availability.test.yml')!;
    expect(tests.scenarios).toEqual([
      'a steady burn of 1x never pages',
      'a sudden 20x burn (error ratio 0.02) pages within 43m12s (Workbook detection time) plus two 1m steps',
      'a sudden 1000x burn (error ratio 1) pages within 52s (Workbook detection time) plus two 1m steps, and the page resolves within 32m after the errors stop',
      'a slow 2.5x burn opens a ticket after 1d5h41m and never pages',
      'a fresh Prometheus with 10m of history does not page on a blip of 432 bad events in 1000 (50% of what the 1h page needs over its window), and pages on a full outage within 52s plus two steps',
      'a Prometheus down for 20m mid-window does not page on a blip of 432 bad events in 1000 (50% of what the 1h page needs over its window) after its restart, and pages on a full outage within 52s plus two steps',
    ]);
    expect(tests.skipped).toEqual([]);
    // Both forms of the rules run over the same series; the test counts the evaluations where they disagree.
    expect(tests.content).toContain(
      'rule_files:\n  - checkout-availability.rules.yml\n  - checkout-availability.raw-form.rules.yml',
    );
    expect(tests.content).toContain('expr: ballast_test:rule_forms_disagreements:total');
    // A 99% objective cannot burn 1000x: 100% errors is 100x.
    expect(files.find((f) => f.path === 'checkout-latency.test.yml')!.scenarios[2]).toMatch(
      /^a sudden 100x burn \(error ratio 1\)/,
    );
    // Series are synthesised from the SLO's own selectors, so the real recording rules are exercised.
    expect(tests.content).toContain('series: http_requests_total{code="500",job="shop",route="/checkout"}');
    expect(files.find((f) => f.path === 'search-availability.rules.yml')!.content).toContain(
      'ballast_test_events_total{outcome="bad"}',
    );
  });

  it('says which properties it cannot prove for an SLO without page or ticket conditions', () => {
    const slo = defineSlo({
      service: 'api',
      name: 'api-availability',
      objective: 0.999,
      window: '30d',
      indicator: { bad: 'errors_total', total: 'requests_total' },
      alerting: { conditions: [{ severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m' }] },
    });
    const tests = generateRuleTests([slo]).find((f) => f.kind === 'tests')!;
    expect(tests.skipped).toEqual(['a slow 2.5x burn: no ticket condition has a burn rate below 2.5']);
    expect(tests.scenarios.at(-1)).toMatch(/^a Prometheus down for 20m mid-window does not page/);
    expect(tests.content).toContain('# Not generated:\n#   - a slow 2.5x burn');
  });
});

// Each test group runs both rule forms; promtool takes minutes on a busy 2-core machine.
describe.skipIf(hasPromtool.skip)('generated promtool tests', { timeout: 300_000 }, () => {
  let dir: string;
  let files: RuleTestFile[];

  beforeAll(async () => {
    const slos: Slo[] = [
      ...(await loadSlos([examples])),
      defineSlo({
        service: 'api',
        name: 'hostile',
        displayName: '<script>alert(1)</script> {{ $labels.x }}',
        objective: 0.9995,
        window: '7d',
        indicator: { good: 'requests_total{outcome!~"error|timeout"}', total: 'requests_total' },
        alerting: { minEvents: 100 },
      }),
    ];
    dir = mkdtempSync(join(tmpdir(), 'ballast-rule-tests-'));
    files = generateRuleTests(slos, { runbookBaseUrl: 'https://runbooks.example.com' });
    for (const f of files) writeFileSync(join(dir, f.path), f.content);
  });

  it(
    'pass `promtool test rules` for ratio, latency, Timeslices and guarded SLOs',
    // Every scenario runs both rule forms, the slow burn over more than a day of 1m steps.
    { timeout: 1_800_000 },
    async () => {
      const tests = files.filter((f) => f.kind === 'tests');
      // Two promtool processes at a time: the machine has two cores.
      const results: { path: string; code: number; output: string }[] = [];
      for (let i = 0; i < tests.length; i += 2) {
        results.push(
          ...(await Promise.all(
            tests
              .slice(i, i + 2)
              .map(async (f) => ({ path: f.path, ...(await promtool(['test', 'rules', f.path], dir)) })),
          )),
        );
      }
      for (const r of results) expect(r, r.output).toMatchObject({ code: 0 });
    },
  );

  /** Runs the one test group of checkout-availability whose name starts with `group` against mutated rules. */
  async function mutated(group: string, from: string, to: string): Promise<{ code: number; output: string }> {
    const rules = readFileSync(join(dir, 'checkout-availability.rules.yml'), 'utf8');
    expect(rules).toContain(from);
    writeFileSync(join(dir, 'mutated.rules.yml'), rules.replaceAll(from, to));
    const test = parse(readFileSync(join(dir, 'checkout-availability.test.yml'), 'utf8')) as {
      rule_files: string[];
      tests: { name: string }[];
    };
    test.rule_files = ['mutated.rules.yml', 'checkout-availability.raw-form.rules.yml'];
    test.tests = test.tests.filter((t) => t.name.startsWith(group));
    expect(test.tests).toHaveLength(1);
    writeFileSync(join(dir, 'mutated.test.yml'), stringify(test));
    return promtool(['test', 'rules', 'mutated.test.yml'], dir);
  }

  it(
    'fail when a young Prometheus judges a window by the few minutes it has (no history guard)',
    {
      timeout: 120_000,
    },
    async () => {
      const r = await mutated(
        'a fresh Prometheus',
        '(time() - slo:history_start:timestamp{slo="checkout-availability",service="shop"}) / 3600, 1)',
        '(time() - slo:history_start:timestamp{slo="checkout-availability",service="shop"}) / 1, 1)',
      );
      expect(r.code).not.toBe(0);
      expect(r.output).toContain('name: a fresh Prometheus');
    },
  );

  it('fail when the generated rules and the raw-counter rules disagree', { timeout: 300_000 }, async () => {
    const r = await mutated(
      'a slow 2.5x burn',
      'sum_over_time(slo:sli_bad:rate5m{slo="checkout-availability",service="shop"}[3d])',
      'sum_over_time(slo:sli_bad:rate5m{slo="checkout-availability",service="shop"}[1d]) * 3',
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('ballast_test:rule_forms_disagreements:total');
  });

  it('fail when the fast page threshold is too high (20x no longer pages in time)', async () => {
    const r = await mutated('a sudden 20x burn', '(14.4 * 0.001)', '(40 * 0.001)');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('name: a sudden 20x burn');
  });

  it('fail when a page condition fires at 1x', async () => {
    const r = await mutated('a steady burn of 1x', '(6 * 0.001)', '(0.9 * 0.001)');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('name: a steady burn of 1x never pages');
  });

  it('fail when the page does not resolve after recovery (a short window as long as the long one)', async () => {
    const r = await mutated(
      'a sudden 1000x burn',
      'window=~"6h|30m"} > (6 * 0.001)) == 2',
      'window=~"6h"} > (6 * 0.001)) == 1',
    );
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('name: a sudden 1000x burn');
  });

  it('fail when the slow burn pages', async () => {
    const r = await mutated('a slow 2.5x burn', '(6 * 0.001)', '(2 * 0.001)');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('name: a slow 2.5x burn');
  });
});

describe.skipIf(hasPromtool.skip)(
  'rules for a fleet where no request has succeeded yet',
  { timeout: 120_000 },
  () => {
    // A counter labelled by status code has no 2xx series until a request succeeds: after a bad deploy of every
    // instance, the good query matches nothing. The rules must read that as "nothing good", not as "no data".
    const route = 'http_route="/api/v1/orders",http_request_method="POST"';
    const shapes = {
      'one aggregation written as an expression': {
        good: `sum(rate(http_server_request_duration_seconds_count{${route},http_response_status_code!~"5.."}[{{.window}}]))`,
        total: `sum(rate(http_server_request_duration_seconds_count{${route}}[{{.window}}]))`,
      },
      'a selector': {
        good: `http_server_request_duration_seconds_count{${route},http_response_status_code!~"5.."}`,
        total: `http_server_request_duration_seconds_count{${route}}`,
      },
    };
    for (const [shape, indicator] of Object.entries(shapes)) {
      it(`pages on a total outage, its good events given as ${shape}`, async () => {
        const slo = defineSlo({
          service: 'shop',
          name: 'checkout',
          objective: 0.999,
          window: '30d',
          indicator,
        });
        const dir = mkdtempSync(join(tmpdir(), 'ballast-no-good-'));
        writeFileSync(join(dir, 'rules.yml'), generateRules([slo]).yaml);
        const test = {
          rule_files: ['rules.yml'],
          evaluation_interval: '1m',
          tests: [
            {
              name: 'every checkout fails from the first scrape',
              interval: '1m',
              input_series: [
                {
                  series: `http_server_request_duration_seconds_count{${route},http_response_status_code="500",instance="a"}`,
                  values: '0+30x40',
                },
              ],
              promql_expr_test: [
                {
                  expr: 'slo:sli_error:ratio{slo="checkout",window="5m"}',
                  eval_time: '20m',
                  exp_samples: [
                    { labels: 'slo:sli_error:ratio{service="shop",slo="checkout",window="5m"}', value: 1 },
                  ],
                },
                {
                  expr: 'count(ALERTS{alertstate="firing",slo="checkout",severity="page"})',
                  eval_time: '20m',
                  exp_samples: [{ labels: '{}', value: 1 }],
                },
              ],
            },
          ],
        };
        writeFileSync(join(dir, 'rules.test.yml'), stringify(test));
        const r = await promtool(['test', 'rules', 'rules.test.yml'], dir);
        expect(r.output).toContain('SUCCESS');
        expect(r.code).toBe(0);
      });
    }
  },
);
