import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { defineSlo } from '../src/define.js';
import type { Slo } from '../src/model.js';
import { generateRules, type AlertingRule, type RecordingRule } from '../src/rules/generate.js';
import { burnRateAlertName, errorRatioSelector } from '../src/rules/names.js';
import { sloQueries } from '../src/rules/queries.js';
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

/** The history hold of the window of `seconds` (see `windowTerm`). */
function hold(seconds: number, copy = '', slo = 'checkout-availability', service = 'checkout'): string {
  return (
    `\n* on() group_left(${copy})\n` +
    `clamp_max((time() - slo:history_start:timestamp{slo="${slo}",service="${service}"}) / ${seconds}, 1)`
  );
}

/** One window's term of an error-ratio rule: its ratio held to the history, labelled with the window. */
function windowTerm(
  window: string,
  ratio: string,
  seconds: number,
  copy = '',
  slo = 'checkout-availability',
  service = 'checkout',
): string {
  return `label_replace(\n(${ratio})${hold(seconds, copy, slo, service)},\n"window", "${window}", "", "")`;
}

/** The error-ratio rules of `slo` (the pages' windows, then the ticket windows when it has any), by window. */
function ratioRules(slo: Slo, options: Parameters<typeof generateRules>[1] = {}): RecordingRule[] {
  return generateRules([slo], options)
    .groups.flatMap((g) => g.rules)
    .filter((r): r is RecordingRule => 'record' in r && r.record === 'slo:sli_error:ratio');
}

function termOf(slo: Slo, window: string, options: Parameters<typeof generateRules>[1] = {}): string {
  const term = ratioRules(slo, options)
    .flatMap((r) => r.expr.split('\nor\nlabel_replace('))
    .find((t) => t.endsWith(`"window", "${window}", "", "")`));
  if (!term) throw new Error(`no window ${window}`);
  return term.startsWith('label_replace(') ? term : `label_replace(${term}`;
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
  it("records the error ratio over the pages' windows in one rule, from rate() of the counters", () => {
    const slo = availability();
    const [short] = ratioRules(slo);
    const windows = [
      ['5m', 300],
      ['30m', 1800],
      ['1h', 3600],
      ['6h', 21600],
    ] as const;
    expect(short!.expr).toBe(
      windows
        .map(([w, seconds]) =>
          windowTerm(
            w,
            `((sum(rate(http_requests_total{job="checkout",code=~"5.."}[${w}])) or vector(0)))\n/\n(sum(rate(http_requests_total{job="checkout"}[${w}])))`,
            seconds,
          ),
        )
        .join('\nor\n'),
    );
    expect(short!.labels).toEqual({ slo: 'checkout-availability', service: 'checkout' });
    expect(errorRatioSelector('1h', { slo: 'checkout-availability' })).toBe(
      'slo:sli_error:ratio{slo="checkout-availability",window="1h"}',
    );
  });

  it('derives the windows only tickets read from the recorded 5m rates, unless asked for raw windows', () => {
    const slo = availability();
    for (const [w, seconds] of [
      ['2h', 7200],
      ['1d', 86400],
      ['3d', 259200],
    ] as const) {
      expect(termOf(slo, w)).toBe(
        windowTerm(
          w,
          `sum_over_time(slo:sli_bad:rate5m{slo="checkout-availability",service="checkout"}[${w}])\n/\n` +
            `sum_over_time(slo:sli_total:rate5m{slo="checkout-availability",service="checkout"}[${w}])`,
          seconds,
          'service',
        ),
      );
    }
    expect(termOf(slo, '3d', { windows: 'raw' })).toBe(
      windowTerm(
        '3d',
        '((sum(rate(http_requests_total{job="checkout",code=~"5.."}[3d])) or vector(0)))\n/\n(sum(rate(http_requests_total{job="checkout"}[3d])))',
        259200,
        'service',
      ),
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
    const expr = termOf(slo, '1h');
    expect(expr.match(/http_requests_total\{job="checkout"\}/g)).toHaveLength(1);
    expect(expr).toBe(
      windowTerm(
        '1h',
        '1 - (\n((sum(rate(http_requests_total{job="checkout",code!~"5.."}[1h])) or vector(0)))\n/\n(sum(rate(http_requests_total{job="checkout"}[1h])))\n)',
        3600,
      ),
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
    expect(recorded(availability(), 'slo:period_error:ratio').expr).toBe(
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
    expect(recorded(slo, 'slo:period_burn_rate:ratio').expr).toContain('slo:period_error:ratio{');
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
    // A condition holds when the (held) ratios of both its windows are over its threshold: one selector each.
    const over = (windows: string, threshold: string): string =>
      `count without (window) (slo:sli_error:ratio{slo="checkout-availability",service="checkout",window=~"${windows}"} > ${threshold}) == 2`;
    expect(page!.expr).toBe(`${over('1h|5m', '(14.4 * 0.001)')}\nor\n${over('6h|30m', '(6 * 0.001)')}`);
    expect(ticket!.expr).toBe(`${over('1d|2h', '(3 * 0.001)')}\nor\n${over('3d|6h', '(1 * 0.001)')}`);
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
      'slo:sli_total:rate{slo="checkout-availability",service="checkout",window=~"1h"} * 3600 >= 50\n  or\n  ' +
        'slo:sli_total:rate{slo="checkout-availability",service="checkout",window=~"5m"} * 300 >= 50',
    );
    const guard = recorded(slo, 'slo:sli_total:rate').expr;
    expect(guard).toContain(
      'label_replace(\nsum(rate(http_requests_total{job="checkout"}[6h])),\n"window", "6h", "", "")',
    );
    expect(guard).toContain(
      'label_replace(\navg_over_time(slo:sli_total:rate5m{slo="checkout-availability",service="checkout"}[3d]),\n"window", "3d", "", "")',
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
    expect(termOf(slo, '56m')).toBe(
      windowTerm(
        '56m',
        '1 - (\n(sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[56m])))\n/\n' +
          '(sum(rate(http_request_duration_seconds_count{job="checkout"}[56m])))\n)',
        3360,
        '',
        'checkout-latency',
      ),
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
      '1 - (\n((sum(rate(search_ok_total[1m])) or vector(0)))\n/\n(sum(rate(search_total[1m])))\n)',
    );
    expect(recorded(slo, 'slo:timeslice_bad:bool').expr).toBe(
      '(slo:timeslice_error:ratio_rate1m{slo="search-answers",service="search"} >= 0) > bool 0.05',
    );
    expect(termOf(slo, '1h')).toBe(
      windowTerm(
        '1h',
        'avg_over_time(slo:timeslice_bad:bool{slo="search-answers",service="search"}[1h])',
        3600,
        '',
        'search-answers',
        'search',
      ),
    );
  });

  it('copies the SLO labels to every series and alert, with slo and service winning', () => {
    const slo = availability({ labels: { team: 'payments', slo: 'spoofed' } });
    for (const rule of rules([slo])) {
      expect(rule.labels.slo).toBe('checkout-availability');
      // The ticket windows' rule takes the other labels from the history series (see its test above).
      if ('record' in rule && rule.labels.service === undefined) {
        expect(rule.expr).toContain('* on() group_left(team, service)\n');
        expect(rule.expr).toContain(
          'slo:history_start:timestamp{team="payments",slo="checkout-availability"',
        );
      } else {
        expect(rule.labels.team).toBe('payments');
      }
    }
  });

  it('evaluates the metadata group at its own interval when asked, the alerts at theirs', () => {
    const slo = availability();
    const [sli, tickets, meta] = generateRules([slo], { interval: '30s', metaInterval: '5m' }).groups;
    expect([sli!.interval, tickets!.interval, meta!.interval]).toEqual(['30s', '1m', '5m']);
    // Nothing an alert reads lives in the metadata group.
    const metaRecords = new Set(meta!.rules.map((r) => ('record' in r ? r.record : '')));
    for (const alert of [...sli!.rules, ...tickets!.rules].filter((r): r is AlertingRule => 'alert' in r)) {
      for (const record of metaRecords) expect(alert.expr).not.toContain(record);
    }
    // The pages with the windows they read; the ticket alert with the long windows only tickets read.
    expect(sli!.rules.filter((r): r is AlertingRule => 'alert' in r).map((r) => r.alert)).toEqual([
      'CheckoutAvailabilityBurnRatePage',
    ]);
    expect(tickets!.rules.map((r) => ('alert' in r ? r.alert : r.record))).toEqual([
      'slo:sli_error:ratio',
      'CheckoutAvailabilityBurnRateTicket',
    ]);
    // Its only static label is slo (promtool's duplicate-rules lint); service comes from the history series.
    expect(tickets!.rules[0]!.labels).toEqual({ slo: 'checkout-availability' });
    // The groups that decide (error ratios and alerts) are the same rule for rule: the alerts cannot change.
    const [sliAlone, ticketsAlone] = generateRules([slo], { interval: '30s' }).groups;
    expect([sli, tickets]).toEqual([sliAlone, ticketsAlone]);
    // Unasked, tickets run every 1m and the metadata every 2m, or at the alerts' interval when that is longer.
    const intervals = (options: Parameters<typeof generateRules>[1]): (string | undefined)[] =>
      generateRules([slo], options).groups.map((g) => g.interval);
    expect(intervals({ interval: '30s' })).toEqual(['30s', '1m', '2m']);
    expect(intervals({})).toEqual([undefined, '1m', '2m']);
    expect(intervals({ interval: '5m' })).toEqual(['5m', '5m', '5m']);
    expect(intervals({ interval: '20s', ticketInterval: '20s' })).toEqual(['20s', '20s', '2m']);
    expect(() => generateRules([slo], { metaInterval: 'often' })).toThrow(
      'Expected `metaInterval` to be a duration such as `1m` or `5m`, got `"often"`',
    );
    expect(() => generateRules([slo], { ticketInterval: 'daily' })).toThrow(
      'Expected `ticketInterval` to be a duration such as `1m` or `5m`, got `"daily"`',
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
              expr: 'slo:sli_error:ratio{window="5m"}',
              eval_time: '10m',
              exp_samples: [
                {
                  labels: 'slo:sli_error:ratio{service="checkout",slo="checkout-good",window="5m"}',
                  value: 1,
                },
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
              expr: 'abs(slo:period_error:ratio - 60 / 60060) < bool 0.0002',
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

describe('good events that match no series yet', () => {
  const goodOf = (good: string): string =>
    sloQueries(
      availability({ indicator: { good, total: 'sum(rate(http_requests_total[{{.window}}]))' } }),
    ).errorRatio('1h');

  it('read as 0 when the good query is one aggregation without grouping (a label-free 0 stands in for it)', () => {
    expect(goodOf('sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))')).toContain(
      '(sum(rate(http_requests_total{code!~"5.."}[1h])) or vector(0))',
    );
    // Parentheses inside a label value are not the aggregation's.
    expect(goodOf('sum(rate(http_requests_total{code=~"(2|3)..)"}[{{.window}}]))')).toContain(
      '(sum(rate(http_requests_total{code=~"(2|3)..)"}[1h])) or vector(0))',
    );
  });

  it('are left as written when the query keeps labels, which a label-free 0 would not match', () => {
    for (const good of [
      'sum by (route) (rate(http_requests_total{code!~"5.."}[{{.window}}]))',
      'sum(rate(http_requests_total{code!~"5.."}[{{.window}}])) by (route)',
      'rate(http_requests_total{code!~"5.."}[{{.window}}])',
      'sum(rate(a[{{.window}}])) + sum(rate(b[{{.window}}]))',
    ]) {
      expect(goodOf(good)).not.toContain('vector(0)');
    }
  });
});
