import type { PrometheusSource, Slo } from '../model.js';
import { parseDuration } from '../duration.js';
import { windowedQuery } from '../promql.js';

/**
 * The PromQL of one SLO's event counts over a window, whatever the indicator: per-second rates of bad events and
 * of all events. Ratio indicators use their sources (`sum(rate(<selector>[w]))`, or the expression with
 * `{{.window}}` replaced; an expression built only on `increase()` is divided by the window's seconds); latency indicators read the histogram (good = the bucket whose `le` is the
 * threshold, total = `_count`). Bad events of a good/total indicator are `total - good`.
 *
 * @example
 * ```ts
 * import { defineSlo, sloQueries } from '@ballast/slo';
 * const slo = defineSlo({
 *   service: 'api', name: 'api-availability', objective: 0.999, window: '30d',
 *   indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
 * });
 * sloQueries(slo).errorRatio('1h');
 * // '(sum(rate(http_requests_total{code=~"5.."}[1h])))\n/\n(sum(rate(http_requests_total[1h])))'
 * ```
 */
export interface SloQueries {
  /** Per-second rate of bad events over `window`. */
  bad(window: string): string;
  /** Per-second rate of all events over `window`. */
  total(window: string): string;
  /**
   * Bad events / all events over `window` (NaN, so no sample after a comparison, when there were none). The total
   * is read once: an indicator that counts good events is written `1 - good / total`.
   */
  errorRatio(window: string): string;
}

/**
 * The per-second rate of a source over `window`. An expression that only uses `increase()` (a count over the
 * window) is divided by the window's seconds, so sources written either way can be mixed in one SLO.
 */
function rateOf(source: PrometheusSource, window: string): string {
  const query = windowedQuery(source, window);
  if (
    source.kind === 'expression' &&
    /\bincrease\s*\(/.test(source.query) &&
    !/\brate\s*\(/.test(source.query)
  ) {
    return `(${query}) / ${(parseDuration(window) ?? 0) / 1000}`;
  }
  return query;
}

/**
 * Whether `query` is one aggregation over everything (`sum(...)`, `count(...)`, ...) with no `by`/`without`: its
 * answer is a single series without labels, which `or vector(0)` can stand in for. Parentheses inside quoted label
 * values do not count.
 */
function isLabelFreeAggregation(query: string): boolean {
  const head = /^\s*(?:sum|count|min|max|avg|group)\s*\(/.exec(query);
  if (head === null) return false;
  let depth = 0;
  let quote: string | null = null;
  for (let i = head[0].length - 1; i < query.length; i++) {
    const c = query[i]!;
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return query.slice(i + 1).trim() === '';
  }
  return false;
}

/**
 * The rate of the counted (bad or good) events: a source that matches no series yet reads as 0 rather than as no
 * data, so the ratio is 0 (no error so far) or the alerts still see a total outage (no good event since the
 * process started: a counter labelled by status code has no 2xx series then). Selectors, and expressions that are
 * one aggregation without `by`/`without`, get `or vector(0)`; an expression with labels is left as written (a
 * label-free 0 would not match its series).
 */
function countedRateOf(source: PrometheusSource, window: string): string {
  const query = rateOf(source, window);
  return source.kind === 'selector' || isLabelFreeAggregation(query) ? `(${query} or vector(0))` : query;
}

function histogramSelector(metric: string, matchers: string, extra?: string): string {
  const all = [matchers, extra].filter((m) => m !== undefined && m !== '').join(',');
  return all === '' ? metric : `${metric}{${all}}`;
}

/**
 * Builds the {@link SloQueries} of `slo`.
 *
 * @example
 * ```ts
 * import { sloQueries } from '@ballast/slo';
 * sloQueries(slo).total('1h'); // 'sum(rate(http_requests_total[1h]))'
 * ```
 */
export function sloQueries(slo: Slo): SloQueries {
  const indicator = slo.indicator;
  let bad: (w: string) => string;
  let total: (w: string) => string;
  // Set for indicators that count good events: the ratio reads the total selector once (Prometheus does not
  // share a selector read twice in one expression).
  let errorRatio: ((w: string) => string) | undefined;
  if (indicator.kind === 'latency') {
    const bucket = histogramSelector(
      `${indicator.histogram}_bucket`,
      indicator.matchers,
      `le="${indicator.le}"`,
    );
    const count = histogramSelector(`${indicator.histogram}_count`, indicator.matchers);
    total = (w) => `sum(rate(${count}[${w}]))`;
    bad = (w) => `(${total(w)} - sum(rate(${bucket}[${w}])))`;
    errorRatio = (w) => `1 - (\n(sum(rate(${bucket}[${w}])))\n/\n(${total(w)})\n)`;
  } else if (indicator.counts === 'bad') {
    const source = indicator.bad;
    total = (w) => rateOf(indicator.total, w);
    bad = (w) => countedRateOf(source, w);
  } else {
    const good = indicator.good;
    total = (w) => rateOf(indicator.total, w);
    bad = (w) => `(${total(w)} - ${countedRateOf(good, w)})`;
    errorRatio = (w) => `1 - (\n(${countedRateOf(good, w)})\n/\n(${total(w)})\n)`;
  }
  return { bad, total, errorRatio: errorRatio ?? ((w) => `(${bad(w)})\n/\n(${total(w)})`) };
}
