// The synthetic series a promtool test feeds: which series an SLO's selectors read, their labels, and their
// counter values step by step (with gaps where Prometheus was down).
import type { PrometheusSource, Slo } from '../../model.js';
import { promNumber } from '../generate.js';
import { parseSelector, selects, synthesiseLabels, type ParsedSelector } from '../selector.js';
import { type Traffic } from '../simulate.js';

/** Events per step of the synthetic traffic: large enough that 1x of a 99.99% budget is 0.1 event a step. */
export const TRAFFIC = 1000;
/** Counters start high so Prometheus's extrapolation of `rate()` treats the bad and all-events counters alike. */
export const START = 1_000_000;
export const CHECKS = 12;

export interface SeriesPlan {
  /** Series names and labels, each with its increments per step from the traffic. */
  readonly series: readonly {
    readonly name: string;
    readonly increments: (t: Traffic, step: number) => number;
  }[];
}

export function seriesName(metric: string, labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0
    ? metric
    : `${metric}{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

export const badOf = (t: Traffic, s: number): number => t.bad[s]!;
export const totalOf = (t: Traffic, s: number): number => t.total[s]!;
export const goodOf = (t: Traffic, s: number): number => t.total[s]! - t.bad[s]!;

/**
 * Labels for the two series of a ratio SLI: `counted` (selected by the bad or good selector) and `rest` (selected by
 * the total selector only). `undefined` when the selectors cannot be satisfied from candidate values.
 */
export function ratioPlan(
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

export function latencyPlan(slo: Slo): SeriesPlan | undefined {
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

export function realPlan(slo: Slo): SeriesPlan | undefined {
  const ind = slo.indicator;
  if (ind.kind === 'latency') return latencyPlan(slo);
  return ind.counts === 'bad'
    ? ratioPlan(ind.bad, ind.total, badOf, goodOf)
    : ratioPlan(ind.good, ind.total, goodOf, badOf);
}

export const SYNTHETIC_BAD = 'ballast_test_events_total{outcome="bad"}';
export const SYNTHETIC_TOTAL = 'ballast_test_events_total';

export function syntheticSlo(slo: Slo): Slo {
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

export function unescapeTemplate(text: string): string {
  return text.replace(/\{\{ "(\{\{|\}\})" \}\}/g, '$1');
}

/**
 * A counter's samples with gaps: `counterValues` runs for the stretches that were scraped, `_` for the others.
 */
export function seriesValues(increments: readonly number[], missing: readonly boolean[] | undefined): string {
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
