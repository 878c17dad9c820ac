import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defineSlo } from '../src/define.js';
import type { Slo } from '../src/model.js';
import { generateRules, type AlertingRule, type RecordingRule } from '../src/rules/generate.js';
import { burnRateAlertName, errorRatioRecord } from '../src/rules/names.js';
import { counterValues } from '../src/rules/tests.js';
import { loadSlos } from '../src/openslo/load.js';
import { promtool, tool } from './rules-tools.js';

const examples = join(import.meta.dirname, '..', 'examples', 'shop', 'slos.yaml');
const hasPromtool = tool('promtool');

function availability(overrides: Partial<Parameters<typeof defineSlo>[0]> = {}): Slo {
  return defineSlo({
    service: 'checkout',
    name: 'checkout-availability',
    objective: 0.999,
    window: '30d',
    indicator: {
      bad: 'http_requests_total{job="checkout",code=~"5.."}',
      total: 'http_requests_total{job="checkout"}',
    },
    ...overrides,
  });
}

function rules(slos: readonly Slo[]): (RecordingRule | AlertingRule)[] {
  return generateRules(slos).groups.flatMap((g) => g.rules);
}

function recorded(slo: Slo, name: string): RecordingRule {
  const rule = rules([slo]).find((r): r is RecordingRule => 'record' in r && r.record === name);
  if (!rule) throw new Error(`no rule ${name}`);
  return rule;
}

describe('burnRateAlertName', () => {
  it.each([
    ['checkout', 'checkout-availability', 'page', 'CheckoutAvailabilityBurnRatePage'],
    ['checkout', 'availability', 'ticket', 'CheckoutAvailabilityBurnRateTicket'],
    ['payments', 'charge-latency', 'page', 'PaymentsChargeLatencyBurnRatePage'],
    ['shop', 'search_v2.answers', 'ticket', 'ShopSearchV2AnswersBurnRateTicket'],
  ] as const)('%s / %s / %s → %s', (service, name, severity, expected) => {
    expect(burnRateAlertName({ service, name }, severity)).toBe(expected);
  });
});

describe('generateRules', () => {
  it('records the error ratio over the page windows from rate() of the counters over that window', () => {
    const slo = availability();
    for (const w of ['5m', '30m', '1h', '2h', '6h']) {
      expect(recorded(slo, errorRatioRecord(w)).expr).toBe(
        `((sum(rate(http_requests_total{job="checkout",code=~"5.."}[${w}])) or vector(0)))\n/\n(sum(rate(http_requests_total{job="checkout"}[${w}])))`,
      );
      expect(recorded(slo, errorRatioRecord(w)).labels).toEqual({
        slo: 'checkout-availability',
        service: 'checkout',
      });
    }
  });

  it('derives windows of 12h and longer from the recorded 5m rates, unless asked for raw windows', () => {
    const slo = availability();
    for (const w of ['1d', '3d']) {
      expect(recorded(slo, errorRatioRecord(w)).expr).toBe(
        `sum_over_time(slo:sli_bad:rate5m{slo="checkout-availability",service="checkout"}[${w}])\n/\n` +
          `sum_over_time(slo:sli_total:rate5m{slo="checkout-availability",service="checkout"}[${w}])`,
      );
    }
    const raw = generateRules([slo], { windows: 'raw' }).groups.flatMap((g) => g.rules);
    expect(raw.find((r) => 'record' in r && r.record === errorRatioRecord('3d'))!.expr).toBe(
      '((sum(rate(http_requests_total{job="checkout",code=~"5.."}[3d])) or vector(0)))\n/\n(sum(rate(http_requests_total{job="checkout"}[3d])))',
    );
    expect(() => generateRules([slo], { windows: 'fast' as 'raw' })).toThrow(
      /Expected `windows` to be 'recorded' or 'raw', got `"fast"`/,
    );
  });

  it('reads the total selector once per window for SLIs that count good events', () => {
    const slo = availability({
      indicator: {
        good: 'http_requests_total{job="checkout",code!~"5.."}',
        total: 'http_requests_total{job="checkout"}',
      },
    });
    const expr = recorded(slo, errorRatioRecord('1h')).expr;
    expect(expr.match(/http_requests_total\{job="checkout"\}/g)).toHaveLength(1);
    expect(expr).toBe(
      '1 - (\n((sum(rate(http_requests_total{job="checkout",code!~"5.."}[1h])) or vector(0)))\n/\n(sum(rate(http_requests_total{job="checkout"}[1h])))\n)',
    );
  });

  it('records how much history the alerts and the period ratio stand on', () => {
    const slo = availability();
    expect(recorded(slo, 'slo:history_start:timestamp').expr).toBe(
      'last_over_time(slo:history_start:timestamp{slo="checkout-availability",service="checkout"}[1h])\nor on()\n' +
        '(vector(time()) and on() slo:sli_total:rate5m{slo="checkout-availability",service="checkout"})',
    );
    expect(recorded(slo, 'slo:alert_history_coverage:ratio').expr).toBe(
      'clamp_max(slo:history:seconds{slo="checkout-availability",service="checkout"} / 259200, 1)',
    );
    expect(recorded(slo, 'slo:period_coverage:ratio').expr).toContain(
      'count_over_time(slo:sli_total:rate5m{slo="checkout-availability",service="checkout"}[30d]) - 1',
    );
  });

  it('computes the period ratio from summed recorded rates, never from an average of ratios (sloth#332, #618)', () => {
    const all = rules([availability()])
      .map((r) => r.expr)
      .join('\n');
    expect(recorded(availability(), 'slo:sli_error:ratio_rate30d').expr).toBe(
      'sum_over_time(slo:sli_bad:rate5m{slo="checkout-availability",service="checkout"}[30d])\n/\n' +
        'sum_over_time(slo:sli_total:rate5m{slo="checkout-availability",service="checkout"}[30d])',
    );
    expect(all).not.toMatch(/_over_time\(slo:sli_error/);
  });

  it('writes metadata: objective, error budget, period, period burn rate and budget remaining', () => {
    const slo = availability();
    expect(recorded(slo, 'slo:objective:ratio').expr).toBe('vector(0.999)');
    expect(recorded(slo, 'slo:error_budget:ratio').expr).toBe('vector(0.001)');
    expect(recorded(slo, 'slo:period:seconds').expr).toBe('vector(2592000)');
    expect(recorded(slo, 'slo:period_burn_rate:ratio').expr).toContain('slo:sli_error:ratio_rate30d{');
    expect(recorded(slo, 'slo:period_error_budget_remaining:ratio').expr).toBe(
      '1 - slo:period_burn_rate:ratio{slo="checkout-availability",service="checkout"}',
    );
  });

  it('writes a page and a ticket alert with the Workbook windows, labels and annotations', () => {
    const alerts = rules([availability()]).filter((r): r is AlertingRule => 'alert' in r);
    expect(alerts.map((a) => a.alert)).toEqual([
      'CheckoutAvailabilityBurnRatePage',
      'CheckoutAvailabilityBurnRateTicket',
    ]);
    const [page, ticket] = alerts;
    expect(page!.labels).toEqual({ slo: 'checkout-availability', service: 'checkout', severity: 'page' });
    expect(ticket!.labels.severity).toBe('ticket');
    // Each window is held to the share of it that the recorded history covers.
    const held = (w: string, seconds: number): string =>
      `slo:sli_error:ratio_rate${w}{slo="checkout-availability",service="checkout"} * ` +
      `clamp_max((time() - slo:history_start:timestamp{slo="checkout-availability",service="checkout"}) / ${seconds}, 1)`;
    expect(page!.expr).toContain(
      `${held('1h', 3600)} > (14.4 * 0.001)\n  and\n  ${held('5m', 300)} > (14.4 * 0.001)`,
    );
    expect(page!.expr).toContain(
      `${held('6h', 21600)} > (6 * 0.001)\n  and\n  ${held('30m', 1800)} > (6 * 0.001)`,
    );
    expect(ticket!.expr).toContain(`${held('1d', 86400)} > (3 * 0.001)`);
    expect(ticket!.expr).toContain(`${held('3d', 259200)} > (1 * 0.001)`);
    expect(Object.keys(page!.annotations).sort()).toEqual(['description', 'runbook_url', 'summary']);
    expect(page!.annotations.runbook_url).toBe('runbooks/CheckoutAvailabilityBurnRatePage.md');
    const withBase = generateRules([availability()], {
      runbookBaseUrl: 'https://git.example/acme/ops/blob/main/',
    });
    expect(withBase.alerts.map((a) => a.alert)).toEqual(alerts.map((a) => a.alert));
    expect(withBase.yaml).toContain(
      'runbook_url: https://git.example/acme/ops/blob/main/runbooks/CheckoutAvailabilityBurnRateTicket.md',
    );
  });

  it('adds the low-traffic guard to every window when minEvents is set', () => {
    const slo = availability({ alerting: { minEvents: 50 } });
    const page = rules([slo]).find((r): r is AlertingRule => 'alert' in r)!;
    expect(page.expr).toContain(
      'slo:sli_total:rate1h{slo="checkout-availability",service="checkout"} * 3600 >= 50',
    );
    expect(page.expr).toContain(
      'slo:sli_total:rate5m{slo="checkout-availability",service="checkout"} * 300 >= 50',
    );
    expect(recorded(slo, 'slo:sli_total:rate6h').expr).toBe(
      'sum(rate(http_requests_total{job="checkout"}[6h]))',
    );
    expect(recorded(slo, 'slo:sli_total:rate3d').expr).toBe(
      'avg_over_time(slo:sli_total:rate5m{slo="checkout-availability",service="checkout"}[3d])',
    );
  });

  it('reads latency from the histogram bucket whose le is the threshold', () => {
    const slo = defineSlo({
      service: 'checkout',
      name: 'checkout-latency',
      objective: 0.99,
      window: '28d',
      indicator: { latency: { histogram: 'http_request_duration_seconds{job="checkout"}', threshold: 0.3 } },
    });
    expect(recorded(slo, errorRatioRecord('56m')).expr).toBe(
      '1 - (\n(sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[56m])))\n/\n' +
        '(sum(rate(http_request_duration_seconds_count{job="checkout"}[56m])))\n)',
    );
  });

  it('maps Timeslices to bad-slice flags averaged over each window', () => {
    const slo = defineSlo({
      service: 'search',
      name: 'search-answers',
      objective: 0.995,
      window: '30d',
      budgeting: { timeslices: { target: 0.95, window: '1m' } },
      indicator: {
        good: 'sum(rate(search_ok_total[{{.window}}]))',
        total: 'sum(rate(search_total[{{.window}}]))',
      },
    });
    expect(recorded(slo, 'slo:timeslice_error:ratio_rate1m').expr).toBe(
      '1 - (\n(sum(rate(search_ok_total[1m])))\n/\n(sum(rate(search_total[1m])))\n)',
    );
    expect(recorded(slo, 'slo:timeslice_bad:bool').expr).toBe(
      '(slo:timeslice_error:ratio_rate1m{slo="search-answers",service="search"} >= 0) > bool 0.05',
    );
    expect(recorded(slo, errorRatioRecord('1h')).expr).toBe(
      'avg_over_time(slo:timeslice_bad:bool{slo="search-answers",service="search"}[1h])',
    );
  });

  it('copies the SLO labels to every series and alert, with slo and service winning', () => {
    const slo = availability({ labels: { team: 'payments', slo: 'spoofed' } });
    for (const rule of rules([slo])) {
      expect(rule.labels.team).toBe('payments');
      expect(rule.labels.slo).toBe('checkout-availability');
    }
  });

  it('evaluates the metadata group at its own interval when asked, the alerts at theirs', () => {
    const slo = availability();
    const [sli, meta] = generateRules([slo], { interval: '30s', metaInterval: '5m' }).groups;
    expect([sli!.interval, meta!.interval]).toEqual(['30s', '5m']);
    // Nothing an alert reads lives in the metadata group.
    const metaRecords = new Set(meta!.rules.map((r) => ('record' in r ? r.record : '')));
    for (const alert of sli!.rules.filter((r): r is AlertingRule => 'alert' in r)) {
      for (const record of metaRecords) expect(alert.expr).not.toContain(record);
    }
    // The group that decides (error ratios and alerts) is the same rule for rule: the alerts cannot change.
    const [sliAlone] = generateRules([slo], { interval: '30s' }).groups;
    expect(sli).toEqual(sliAlone);
    // Unasked, the metadata group runs every 2m, or at the alerts' interval when that is longer.
    expect(generateRules([slo], { interval: '30s' }).groups.map((g) => g.interval)).toEqual(['30s', '2m']);
    expect(generateRules([slo]).groups.map((g) => g.interval)).toEqual([undefined, '2m']);
    expect(generateRules([slo], { interval: '5m' }).groups.map((g) => g.interval)).toEqual(['5m', '5m']);
    expect(() => generateRules([slo], { metaInterval: 'often' })).toThrow(
      'Expected `metaInterval` to be a duration such as `1m` or `5m`, got `"often"`',
    );
  });

  it('rejects SLOs with the same name', () => {
    expect(() => generateRules([availability(), availability()])).toThrow(
      /Expected `slos` to be SLOs with unique names, got `"checkout-availability"`/,
    );
  });

  it('is deterministic (generated files are compared in CI)', async () => {
    const slos = await loadSlos([examples]);
    expect(generateRules(slos).yaml).toBe(generateRules(slos).yaml);
  });
});

describe.skipIf(hasPromtool.skip)('generated rules under promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-rules-'));

  it('pass `promtool check rules` for every kind of SLI, including hostile display names', async () => {
    const slos = [
      ...(await loadSlos([examples])),
      availability({
        name: 'hostile',
        displayName: '<script>alert(1)</script> {{ $labels.x }} }} {{',
        description: '{{ range }}',
        alerting: { minEvents: 10 },
      }),
    ];
    const file = join(dir, 'rules.yml');
    writeFileSync(
      file,
      generateRules(slos, { runbookBaseUrl: 'https://runbooks.example.com', interval: '30s' }).yaml,
    );
    const r = await promtool(['check', 'rules', file]);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('a good/total SLO sees a total outage before its first good event (no good series yet)', async () => {
    const slo = defineSlo({
      service: 'checkout',
      name: 'checkout-good',
      objective: 0.999,
      window: '30d',
      indicator: { good: 'http_requests_total{code!~"5.."}', total: 'http_requests_total' },
    });
    writeFileSync(join(dir, 'outage.rules.yml'), generateRules([slo]).yaml);
    const test = {
      rule_files: ['outage.rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'http_requests_total{code="503"}', values: counterValues(Array<number>(10).fill(100)) },
          ],
          promql_expr_test: [
            {
              expr: 'slo:sli_error:ratio_rate5m',
              eval_time: '10m',
              exp_samples: [
                { labels: 'slo:sli_error:ratio_rate5m{service="checkout",slo="checkout-good"}', value: 1 },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'outage.test.yml'), stringify(test));
    const r = await promtool(['test', 'rules', 'outage.test.yml'], dir);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  // Regression for sloth#618 ("default SLI optimization has a high bias rate on spiky requests"): an hour of
  // 1 request/min that all fail, then an hour of 1000 requests/min that all succeed. The true error ratio is
  // 60 / 60,060 ≈ 0.001; averaging the 5m ratios (Sloth's shortcut) would give ≈ 0.5.
  it('sloth#618: the period ratio stays traffic-weighted on spiky traffic', async () => {
    const rulesFile = join(dir, 'spiky.rules.yml');
    writeFileSync(rulesFile, generateRules([availability()]).yaml);
    const quiet = Array<number>(60).fill(1);
    const busy = Array<number>(60).fill(1000);
    const test = {
      rule_files: ['spiky.rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            {
              series: 'http_requests_total{job="checkout",code="500"}',
              values: counterValues([...quiet, ...Array<number>(60).fill(0)]),
            },
            {
              series: 'http_requests_total{job="checkout",code="200"}',
              values: counterValues([...Array<number>(60).fill(0), ...busy]),
            },
          ],
          promql_expr_test: [
            {
              expr: 'abs(slo:sli_error:ratio_rate30d - 60 / 60060) < bool 0.0002',
              eval_time: '2h',
              exp_samples: [{ labels: '{service="checkout",slo="checkout-availability"}', value: 1 }],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'spiky.test.yml'), stringify(test));
    const r = await promtool(['test', 'rules', 'spiky.test.yml'], dir);
    expect(r.output).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });
});
