import { invalidOption } from '@ballast/core';
import { stringify } from 'yaml';
import { formatDuration, parseDuration } from '../duration.js';
import type { BurnRateCondition, PrometheusSource, Severity, Slo } from '../model.js';
import { sloLabels, sloRuleGroups, promNumber, type AlertingRule, type RulesOptions } from './generate.js';
import { burnRateAlertName } from './names.js';
import { parseSelector, selects, synthesiseLabels, type ParsedSelector } from './selector.js';
import { predictAlerts, type Prediction, type Traffic } from './simulate.js';

/**
 * One file written by {@link generateRuleTests}: paths are relative to the tests directory.
 *
 * @example
 * ```ts
 * for (const f of generateRuleTests(slos)) writeFileSync(join('prometheus/tests', f.path), f.content);
 * ```
 */
export interface RuleTestFile {
  readonly path: string;
  readonly content: string;
  /** The SLO the file is about. */
  readonly slo: string;
  /** `tests` for a `promtool test rules` file; `rules` for the rules file of one SLO that its tests load. */
  readonly kind: 'tests' | 'rules';
  /** The names of the test groups in the file. */
  readonly scenarios: readonly string[];
  /** Scenarios that could not be generated for this SLO, with the reason. */
  readonly skipped: readonly string[];
}

/** Events per step of the synthetic traffic: large enough that 1x of a 99.99% budget is 0.1 event a step. */
const TRAFFIC = 1000;
/** Counters start high so Prometheus's extrapolation of `rate()` treats the bad and all-events counters alike. */
const START = 1_000_000;
const CHECKS = 12;

interface SeriesPlan {
  /** Series names and labels, each with its increments per step from the traffic. */
  readonly series: readonly {
    readonly name: string;
    readonly increments: (t: Traffic, step: number) => number;
  }[];
}

function seriesName(metric: string, labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0
    ? metric
    : `${metric}{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

const badOf = (t: Traffic, s: number): number => t.bad[s]!;
const totalOf = (t: Traffic, s: number): number => t.total[s]!;
const goodOf = (t: Traffic, s: number): number => t.total[s]! - t.bad[s]!;

/**
 * Labels for the two series of a ratio SLI: `counted` (selected by the bad or good selector) and `rest` (selected by
 * the total selector only). `undefined` when the selectors cannot be satisfied from candidate values.
 */
function ratioPlan(
  counted: PrometheusSource,
  total: PrometheusSource,
  countedIncrements: (t: Traffic, s: number) => number,
  otherIncrements: (t: Traffic, s: number) => number,
): SeriesPlan | undefined {
  if (counted.kind !== 'selector' || total.kind !== 'selector') return undefined;
  const c = parseSelector(counted.query);
  const tot = parseSelector(total.query);
  if (!c || !tot) return undefined;
  const x =
    (c.metric === tot.metric ? synthesiseLabels(c.metric, [c, tot], []) : undefined) ??
    synthesiseLabels(c.metric, [c], []);
  const y = synthesiseLabels(tot.metric, [tot], [c]);
  if (!x || !y) return undefined;
  const xInTotal = selects(tot, c.metric, x);
  return {
    series: [
      { name: seriesName(c.metric, x), increments: countedIncrements },
      {
        name: seriesName(tot.metric, y),
        increments: xInTotal ? otherIncrements : (t, s) => totalOf(t, s),
      },
    ],
  };
}

function latencyPlan(slo: Slo): SeriesPlan | undefined {
  if (slo.indicator.kind !== 'latency') return undefined;
  const { histogram, matchers, le } = slo.indicator;
  const parsed: ParsedSelector | undefined = parseSelector(
    matchers === '' ? histogram : `${histogram}{${matchers}}`,
  );
  if (!parsed) return undefined;
  const labels = synthesiseLabels(parsed.metric, [parsed], []);
  if (!labels) return undefined;
  return {
    series: [
      { name: seriesName(`${histogram}_bucket`, { ...labels, le }), increments: goodOf },
      { name: seriesName(`${histogram}_count`, labels), increments: totalOf },
    ],
  };
}

function realPlan(slo: Slo): SeriesPlan | undefined {
  const ind = slo.indicator;
  if (ind.kind === 'latency') return latencyPlan(slo);
  return ind.counts === 'bad'
    ? ratioPlan(ind.bad, ind.total, badOf, goodOf)
    : ratioPlan(ind.good, ind.total, goodOf, badOf);
}

const SYNTHETIC_BAD = 'ballast_test_events_total{outcome="bad"}';
const SYNTHETIC_TOTAL = 'ballast_test_events_total';

function syntheticSlo(slo: Slo): Slo {
  return {
    ...slo,
    indicator: {
      kind: 'ratio',
      counts: 'bad',
      bad: { type: 'prometheus', kind: 'selector', query: SYNTHETIC_BAD },
      total: { type: 'prometheus', kind: 'selector', query: SYNTHETIC_TOTAL },
    },
  };
}

/**
 * Writes a counter's samples in promtool's expanding notation, one `start+stepxN` run per constant stretch.
 *
 * @default start 1000000
 * @example
 * ```ts
 * counterValues([1, 1, 0], 0); // '0+1x2 2+0x0'
 * ```
 */
export function counterValues(increments: readonly number[], start = START): string {
  const parts: string[] = [];
  let value = start;
  let i = 0;
  let first = true;
  while (i < increments.length) {
    const inc = increments[i]!;
    let j = i;
    while (j < increments.length && increments[j] === inc) j++;
    const runs = j - i;
    if (first) {
      parts.push(`${promNumber(value)}+${promNumber(inc)}x${runs}`);
      first = false;
    } else {
      parts.push(`${promNumber(value + inc)}+${promNumber(inc)}x${runs - 1}`);
    }
    value += inc * runs;
    i = j;
  }
  if (first) parts.push(promNumber(value));
  return parts.join(' ');
}

function unescapeTemplate(text: string): string {
  return text.replace(/\{\{ "(\{\{|\}\})" \}\}/g, '$1');
}

interface Check {
  readonly step: number;
  readonly severity: Severity;
  readonly firing: boolean;
}

interface Scenario {
  readonly name: string;
  readonly traffic: Traffic;
  readonly checks: readonly Check[];
  /** Steps without a sample (Prometheus was down): the counters kept counting, nobody scraped them. */
  readonly missing?: readonly boolean[];
}

/**
 * A counter's samples with gaps: `counterValues` runs for the stretches that were scraped, `_` for the others.
 */
function seriesValues(increments: readonly number[], missing: readonly boolean[] | undefined): string {
  if (missing === undefined || !missing.includes(true)) return counterValues(increments);
  // Sample 0 is the starting value; sample i (1..n) follows increment i - 1 and is missing when missing[i - 1].
  const values = [START];
  for (const inc of increments) values.push(values.at(-1)! + inc);
  const present = (i: number): boolean => i === 0 || !missing[i - 1];
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    if (!present(i)) {
      parts.push('_');
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < values.length && present(j + 1)) j++;
    parts.push(counterValues(increments.slice(i, j), values[i]));
    i = j + 1;
  }
  return parts.join(' ');
}

/** The step of the synthetic series: a fifth of the shortest window (a third of a time slice), at most 1m. */
function stepMs(slo: Slo): number {
  const windows = slo.alerting.conditions.flatMap((c) => [c.shortWindowMs, c.longWindowMs]);
  let step = Math.min(60_000, ...windows.map((w) => w / 5));
  if (slo.budgeting.method === 'Timeslices') step = Math.min(step, slo.budgeting.timesliceWindowMs / 3);
  return Math.max(1000, Math.floor(step / 1000) * 1000);
}

function steady(steps: number, badPerStep: number): Traffic {
  return { bad: Array<number>(steps).fill(badPerStep), total: Array<number>(steps).fill(TRAFFIC) };
}

function concat(...parts: Traffic[]): Traffic {
  return { bad: parts.flatMap((p) => p.bad), total: parts.flatMap((p) => p.total) };
}

/**
 * Traffic that burns the budget `burn` times faster than sustainable: for event budgeting, a constant error
 * ratio of `burn × budget`; for time slices, whole slices of errors spaced so that `burn × budget` of the time
 * slices are bad.
 */
function burning(slo: Slo, steps: number, burn: number, step: number, blocksFirst = true): Traffic {
  const budget = 1 - slo.objective;
  const ratio = Math.min(1, burn * budget);
  if (slo.budgeting.method !== 'Timeslices') return steady(steps, TRAFFIC * ratio);
  if (ratio >= 1) return steady(steps, TRAFFIC);
  const slice = Math.max(1, Math.round(slo.budgeting.timesliceWindowMs / step));
  // A block of bad steps long enough to make its slices bad, and the samples whose trailing slice it touches.
  const block = Math.min(slice, Math.floor(slice * (1 - slo.budgeting.timesliceTarget)) + 1);
  const touched = slice + block - 1;
  const period = Math.max(touched + 1, Math.round(touched / ratio));
  // Blocks open each period (a burst starts with bad slices) or close it (a steady burn starts with good ones).
  const bad = Array.from({ length: steps }, (_, i) =>
    (blocksFirst ? i % period < block : i % period >= period - block) ? TRAFFIC : 0,
  );
  return { bad, total: Array<number>(steps).fill(TRAFFIC) };
}

function spread(from: number, to: number): number[] {
  const out = new Set<number>();
  for (let k = 0; k < CHECKS; k++) out.add(Math.round(from + ((to - from) * k) / (CHECKS - 1)));
  return [...out].filter((s) => s >= 1);
}

function maxMs(conditions: readonly BurnRateCondition[], pick: (c: BurnRateCondition) => number): number {
  return Math.max(0, ...conditions.map(pick));
}

function forMsOf(conditions: readonly BurnRateCondition[]): number {
  return Math.max(0, ...conditions.map((c) => (c.for === undefined ? 0 : (parseDuration(c.for) ?? 0))));
}

/** The Workbook's detection time at `burn`: the fastest page condition's `threshold / burn × long window`. */
function detectionMs(pages: readonly BurnRateCondition[], burn: number): number | undefined {
  const times = pages.filter((c) => c.burnRate < burn).map((c) => (c.burnRate / burn) * c.longWindowMs);
  return times.length === 0 ? undefined : Math.min(...times);
}

function scenarios(slo: Slo, step: number, skipped: string[]): Scenario[] {
  const pages = slo.alerting.conditions.filter((c) => c.severity === 'page');
  const tickets = slo.alerting.conditions.filter((c) => c.severity === 'ticket');
  const budget = 1 - slo.objective;
  const steps = (ms: number): number => Math.ceil(ms / step);
  const sliceMs = slo.budgeting.method === 'Timeslices' ? slo.budgeting.timesliceWindowMs : 0;
  const out: Scenario[] = [];
  if (pages.length === 0) {
    skipped.push('no page conditions: nothing to prove about pages');
    return out;
  }
  // Before a slow burn, healthy traffic for the long window of the fastest page condition (1h for the defaults).
  const warm = steps(Math.min(...pages.map((c) => c.longWindowMs))) + 1;
  // Before a sudden burn, healthy traffic for the longest page long window (6h for the defaults): every page
  // condition then judges the burst against a full window of history, as on a Prometheus that has been running.
  const history = steps(maxMs(pages, (c) => c.longWindowMs)) + 1;
  const forMs = forMsOf(pages);
  const predict = (severity: Severity, traffic: Traffic): Prediction[] =>
    predictAlerts(
      slo,
      slo.alerting.conditions.filter((c) => c.severity === severity),
      traffic,
      step,
    );

  // 1. A steady burn of exactly 1x never pages, from the start through the longest page long window (a page
  // condition at or below 1x over any window would fire by then).
  {
    const length = steps(maxMs(pages, (c) => c.longWindowMs)) + warm;
    const traffic = burning(slo, length, 1, step, false);
    out.push({
      name: 'a steady burn of 1x never pages',
      traffic,
      checks: spread(1, length).map((s) => ({ step: s, severity: 'page', firing: false })),
    });
  }

  // 2. A sudden burn of 20x and of 1000x (capped at 100% errors) pages within the Workbook's detection time.
  const maxBurn = 1 / budget;
  const burns = [...new Set([20, 1000].map((b) => Math.min(b, maxBurn)))];
  for (const burn of burns) {
    const detect = detectionMs(pages, burn);
    if (detect === undefined) {
      skipped.push(
        `a sudden ${promNumber(burn)}x burn: no page condition has a burn rate below ${promNumber(burn)}`,
      );
      continue;
    }
    const due = steps(detect + forMs) + 2;
    // 3. After the largest burst, the page resolves within the longest page short window (plus a time slice).
    const recover = burn === burns.at(-1);
    const settle = steps(maxMs(pages, (c) => c.shortWindowMs) + sliceMs) + 2;
    const burst = recover ? due + 1 : due + 2;
    const traffic = concat(
      steady(history, 0),
      burning(slo, burst, burn, step),
      recover ? steady(settle + 1, 0) : steady(0, 0),
    );
    const predicted = predict('page', traffic);
    const checks: Check[] = [{ step: history, severity: 'page', firing: false }];
    const first = predicted.findIndex((p, s) => s > history && p === 'firing');
    // Sharpness: the last step before the predicted page at which it surely has not fired yet.
    if (first > history + 1 && predicted[first - 1] === 'quiet') {
      checks.push({ step: first - 1, severity: 'page', firing: false });
    }
    checks.push({ step: history + due, severity: 'page', firing: true });
    if (recover) {
      checks.push({ step: history + burst, severity: 'page', firing: true });
      checks.push({ step: history + burst + settle, severity: 'page', firing: false });
    }
    out.push({
      name:
        `a sudden ${promNumber(burn)}x burn (error ratio ${promNumber(Math.min(1, burn * budget))}) pages within ` +
        `${formatDuration(Math.ceil((detect + forMs) / 1000) * 1000)} (Workbook detection time) plus two ${formatDuration(step)} steps` +
        (recover
          ? `, and the page resolves within ${formatDuration(settle * step)} after the errors stop`
          : ''),
      traffic,
      checks,
    });
  }

  // 4. A slow burn of 2.5x opens a ticket, never a page.
  {
    const burn = 2.5;
    if (!tickets.some((c) => c.burnRate < burn)) {
      skipped.push('a slow 2.5x burn: no ticket condition has a burn rate below 2.5');
    } else {
      const horizon =
        steps(
          Math.max(
            maxMs(tickets, (c) => c.longWindowMs) + maxMs(tickets, (c) => c.shortWindowMs),
            maxMs(pages, (c) => c.longWindowMs),
          ),
        ) + 4;
      const long = concat(steady(warm, 0), burning(slo, horizon, burn, step));
      const predicted = predict('ticket', long);
      const first = predicted.findIndex((p, s) => s > warm && p === 'firing');
      if (first < 0) {
        skipped.push(
          'a slow 2.5x burn: the ticket conditions are never surely met within their longest window',
        );
      } else {
        // Keep burning through the longest page long window: a page condition at or below 2.5x would fire by then.
        const end = Math.max(first + 2, warm + steps(maxMs(pages, (c) => c.longWindowMs)) + 2);
        const traffic = { bad: long.bad.slice(0, end), total: long.total.slice(0, end) };
        out.push({
          name: `a slow 2.5x burn opens a ticket after ${formatDuration((first - warm) * step)} and never pages`,
          traffic,
          checks: [
            ...spread(warm, end).map((s) => ({ step: s, severity: 'page' as const, firing: false })),
            { step: first, severity: 'ticket', firing: true },
            ...(predicted[end] === 'firing'
              ? [{ step: end, severity: 'ticket' as const, firing: true }]
              : []),
          ],
        });
      }
    }
  }

  // 5. and 6. Short history: a fresh Prometheus, and one restarted on its own storage after 20 minutes down.
  if (slo.budgeting.method === 'Timeslices') {
    skipped.push('short history: the blip scenarios are written for event budgeting');
    return out;
  }
  const fastest = [...pages].sort((a, b) => b.burnRate - a.burnRate)[0]!;
  // A blip that spends half the fastest page's threshold over its long window: it pages only when the window
  // is taken to be the few minutes Prometheus has seen.
  const blip = Math.min(TRAFFIC, 0.5 * fastest.burnRate * budget * TRAFFIC * steps(fastest.longWindowMs));
  const quiet = steps(fastest.shortWindowMs) + 2;
  const outage = detectionMs(pages, maxBurn);
  if (outage === undefined) {
    skipped.push(`short history: no page condition has a burn rate below ${promNumber(maxBurn)}`);
    return out;
  }
  const due = steps(outage + forMs) + 2;
  const afterBlip = (start: number): { traffic: Traffic; checks: Check[] } => {
    const traffic = concat(
      { bad: [blip], total: [TRAFFIC] },
      steady(quiet, 0),
      burning(slo, due + 1, maxBurn, step),
    );
    const checks: Check[] = [];
    for (let s = start; s <= start + quiet; s++) {
      checks.push({ step: s, severity: 'page', firing: false });
      if (tickets.length > 0) checks.push({ step: s, severity: 'ticket', firing: false });
    }
    checks.push({ step: start + quiet + due, severity: 'page', firing: true });
    return { traffic, checks };
  };
  const share = blip / (fastest.burnRate * budget * TRAFFIC * steps(fastest.longWindowMs));
  const blipText =
    `a blip of ${promNumber(blip)} bad events in ${TRAFFIC} ` +
    `(${promNumber(Math.round(share * 1000) / 10)}% of what the ${fastest.longWindow} page needs over its window)`;
  {
    const fresh = steps(10 * 60_000);
    const after = afterBlip(fresh);
    out.push({
      name:
        `a fresh Prometheus with ${formatDuration(fresh * step)} of history does not page on ${blipText}, ` +
        `and pages on a full outage within ${formatDuration(Math.ceil((outage + forMs) / 1000) * 1000)} plus two steps`,
      traffic: concat(steady(fresh - 1, 0), after.traffic),
      checks: after.checks,
    });
  }
  {
    const before = steps(maxMs(pages, (c) => c.longWindowMs)) + 1;
    const down = steps(20 * 60_000);
    const after = afterBlip(before + down);
    const traffic = concat(steady(before + down - 1, 0), after.traffic);
    out.push({
      name:
        `a Prometheus down for ${formatDuration(down * step)} mid-window does not page on ${blipText} after its restart, ` +
        `and pages on a full outage within ${formatDuration(Math.ceil((outage + forMs) / 1000) * 1000)} plus two steps`,
      traffic,
      missing: traffic.total.map((_, i) => i >= before - 1 && i < before + down - 1),
      checks: after.checks,
    });
  }
  return out;
}

function testFile(
  slo: Slo,
  ruleSlo: Slo,
  plan: SeriesPlan,
  rulesFile: string,
  compareFile: string,
  options: RulesOptions,
  synthetic: boolean,
  skipped: string[],
): { content: string; names: string[] } {
  const step = stepMs(slo);
  const alerts = sloRuleGroups(ruleSlo, options)
    .flatMap((g) => g.rules)
    .filter((r): r is AlertingRule => 'alert' in r);
  const expected = (
    severity: Severity,
  ): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } => {
    const rule = alerts.find((a) => a.labels.severity === severity)!;
    return {
      exp_labels: { ...sloLabels(slo), severity },
      exp_annotations: Object.fromEntries(
        Object.entries(rule.annotations).map(([k, v]) => [k, unescapeTemplate(v)]),
      ),
    };
  };
  const list = scenarios(slo, step, skipped);
  const tests = list.map((sc) => {
    const steps = sc.traffic.total.length;
    return {
      name: sc.name,
      interval: formatDuration(step),
      input_series: plan.series.map((s) => ({
        series: s.name,
        values: seriesValues(
          Array.from({ length: steps }, (_, i) => s.increments(sc.traffic, i)),
          sc.missing,
        ),
      })),
      alert_rule_test: [...sc.checks]
        .sort((a, b) => a.step - b.step || a.severity.localeCompare(b.severity))
        .map((c) => ({
          eval_time: formatDuration(c.step * step),
          alertname: burnRateAlertName(slo, c.severity),
          exp_alerts: c.firing ? [expected(c.severity)] : [],
        })),
      // Both rule forms saw the same series: no evaluation where one fired and the other did not.
      promql_expr_test: [
        {
          expr: DISAGREEMENTS,
          eval_time: formatDuration(steps * step),
          exp_samples: [{ labels: DISAGREEMENTS, value: 0 }],
        },
      ],
    };
  });
  const header = [
    `# promtool tests for SLO ${slo.name} (service ${slo.service}), generated by @ballast/slo. Do not edit.`,
    `# Run: promtool test rules ${'<this file>'}`,
    '#',
    `# Objective ${promNumber(slo.objective)} (error budget ${promNumber(1 - slo.objective)}); synthetic traffic of ${TRAFFIC} events`,
    `# every ${formatDuration(step)}. Each test proves one property of the multi-window, multi-burn-rate alerts, and`,
    `# that the same rules computing every window from rate() of the counters (${compareFile}) fired and`,
    '# resolved at the same evaluations:',
    ...list.map((sc) => `#   - ${sc.name}`),
    ...(skipped.length > 0 ? ['#', '# Not generated:', ...skipped.map((s) => `#   - ${s}`)] : []),
    ...(synthetic
      ? [
          '#',
          '# The SLI queries of this SLO are PromQL expressions whose input series cannot be derived, so its rules',
          `# file for these tests reads ${SYNTHETIC_BAD} / ${SYNTHETIC_TOTAL} instead; windows,`,
          '# thresholds, alert names, labels and annotations are the same as in the real rules.',
        ]
      : []),
    '',
  ].join('\n');
  return {
    content:
      header +
      stringify(
        { rule_files: [rulesFile, compareFile], evaluation_interval: formatDuration(step), tests },
        { lineWidth: 0, aliasDuplicateObjects: false },
      ),
    names: list.map((s) => s.name),
  };
}

/** The recorded count of evaluations at which the two rule forms disagreed (in the comparison rules file). */
const DISAGREEMENTS = 'ballast_test:rule_forms_disagreements:total';
/** The SLO name of the raw-counter copy of the rules in the comparison file. */
const RAW_SUFFIX = '--raw-form';

/**
 * The raw-counter form of an SLO's rules (as SLO `<name>--raw-form`) and a counter of the evaluations at which
 * its alerts and those of the generated rules differ: pages at any evaluation, tickets by more than two evaluations
 * (their long windows are derived from recorded 5m rates, blurred by 5m at the edges).
 */
function compareRules(slo: Slo, options: RulesOptions, step: number): string {
  const stepText = formatDuration(step);
  const stepsText = (n: number): string => formatDuration(n * step);
  // Its own SLO name, so that no selector of either form reads the other's series.
  const raw: Slo = { ...slo, name: `${slo.name}${RAW_SUFFIX}` };
  const groups = sloRuleGroups(raw, { ...options, windows: 'raw' });
  const firing = (name: string, severity: Severity): string =>
    `ALERTS{alertstate="firing",slo=${JSON.stringify(name)},severity="${severity}"}`;
  // Pages: the same state at every evaluation (read one evaluation back, when both forms have written theirs).
  const page = [firing(slo.name, 'page'), firing(raw.name, 'page')] as const;
  const pages =
    `(${page[0]} offset ${stepText} unless on() ${page[1]} offset ${stepText})\nor\n` +
    `(${page[1]} offset ${stepText} unless on() ${page[0]} offset ${stepText})`;
  // Tickets, from windows derived from the recorded 5m rates: the state three evaluations back must be found in
  // the other form within two evaluations either side.
  const ticket = [firing(slo.name, 'ticket'), firing(raw.name, 'ticket')] as const;
  const around = (series: string): string =>
    `present_over_time(${series}[${stepsText(4)}] offset ${stepText})`;
  const tickets =
    `(${ticket[0]} offset ${stepsText(3)} unless on() ${around(ticket[1])})\nor\n` +
    `(${ticket[1]} offset ${stepsText(3)} unless on() ${around(ticket[0])})`;
  const differ = `${pages}\nor\n${tickets}`;
  groups.push({
    name: `slo-${slo.service}-${slo.name}-rule-forms`,
    rules: [
      {
        record: DISAGREEMENTS,
        expr: `(last_over_time(${DISAGREEMENTS}[1h]) or vector(0))\n+\nscalar(count(\n${differ}\n) or vector(0))`,
        labels: {},
      },
    ],
  });
  return (
    `# The rules of SLO ${slo.name} with every window read from rate() of the counters (as SLO ${slo.name}${RAW_SUFFIX}),\n` +
    "# and a count of the evaluations at which their alerts and the generated rules' alerts differ.\n" +
    '# For the promtool tests only. Generated by @ballast/slo. Do not edit.\n' +
    stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}

/**
 * Generates `promtool test rules` files that prove, for each SLO, what its generated alerts do on synthetic
 * traffic: a steady burn of 1x never pages; a sudden burn of 20x and of 1000x the budget (capped at 100% errors)
 * pages within the SRE Workbook's detection time (`threshold / burn × long window`, plus two steps); the page
 * resolves within the longest page short window once the errors stop; a slow 2.5x burn opens a ticket and never
 * pages. Input series are synthesised to match the SLO's own selectors, so the tests run the real recording rules;
 * for PromQL-expression SLIs (whose inputs cannot be derived) the rules they load differ only in the SLI queries,
 * which read synthetic counters.
 *
 * Two files per SLO: `<slo>.rules.yml`, the SLO's rule groups exactly as {@link generateRules} writes them into
 * the combined file (so each test evaluates only its own SLO's rules), and `<slo>.test.yml`. Run them with
 * `promtool test rules <dir>/*.test.yml`.
 *
 * @example
 * ```ts
 * import { defineSlo, generateRuleTests } from '@ballast/slo';
 * const slo = defineSlo({
 *   service: 'checkout', name: 'checkout-availability', objective: 0.999, window: '30d',
 *   indicator: { bad: 'http_requests_total{job="checkout",code=~"5.."}', total: 'http_requests_total{job="checkout"}' },
 * });
 * const files = generateRuleTests([slo], { runbookBaseUrl: 'https://runbooks.example.com' });
 * files.map((f) => f.path); // ['checkout-availability.rules.yml', 'checkout-availability.test.yml']
 * ```
 */
export function generateRuleTests(slos: readonly Slo[], options: RulesOptions = {}): RuleTestFile[] {
  const given: unknown = slos;
  if (!Array.isArray(given)) throw invalidOption('slos', 'an array of SLOs', given);
  const files: RuleTestFile[] = [];
  for (const slo of slos) {
    const skipped: string[] = [];
    const real = realPlan(slo);
    const ruleSlo = real ? slo : syntheticSlo(slo);
    const plan = real ?? realPlan(ruleSlo)!;
    const rulesPath = `${slo.name}.rules.yml`;
    files.push({
      path: rulesPath,
      content:
        (real
          ? `# The rules of SLO ${slo.name}, exactly as in the combined rules file, for its promtool tests.\n`
          : `# A copy of the rules of SLO ${slo.name} whose SLI reads ${SYNTHETIC_BAD} / ${SYNTHETIC_TOTAL},\n` +
            '# for its promtool tests (its own SLI queries are PromQL expressions whose inputs cannot be derived).\n') +
        '# Generated by @ballast/slo. Do not edit.\n' +
        stringify(
          { groups: sloRuleGroups(ruleSlo, options) },
          { lineWidth: 0, aliasDuplicateObjects: false },
        ),
      slo: slo.name,
      kind: 'rules',
      scenarios: [],
      skipped: [],
    });
    const comparePath = `${slo.name}.raw-form.rules.yml`;
    files.push({
      path: comparePath,
      content: compareRules(ruleSlo, options, stepMs(slo)),
      slo: slo.name,
      kind: 'rules',
      scenarios: [],
      skipped: [],
    });
    const { content, names } = testFile(slo, ruleSlo, plan, rulesPath, comparePath, options, !real, skipped);
    files.push({
      path: `${slo.name}.test.yml`,
      content,
      slo: slo.name,
      kind: 'tests',
      scenarios: names,
      skipped,
    });
  }
  return files;
}
