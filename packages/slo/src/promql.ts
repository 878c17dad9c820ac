import type { PrometheusSource } from './model.js';

/**
 * The placeholder a full PromQL expression uses for the window (`{{.window}}`, spaces allowed).
 * @example
 * ```ts
 * 'sum(rate(x[{{.window}}]))'.replace(WINDOW_PLACEHOLDER, '5m'); // 'sum(rate(x[5m]))'
 * ```
 */
export const WINDOW_PLACEHOLDER = /\{\{\s*\.window\s*\}\}/g;

// metric{matchers} or {matchers}; label values are double-, single- or back-quoted strings.
const SELECTOR =
  /^\s*(?:[a-zA-Z_:][a-zA-Z0-9_:]*\s*(?:\{(?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\})?|\{(?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\})\s*$/;

/**
 * Classifies a Prometheus query: an expression when it contains `{{.window}}`, a selector when it is a plain
 * series selector (`metric{label="x"}`), `undefined` when it is neither (a PromQL expression without the
 * placeholder cannot be evaluated over the SLO's windows).
 *
 * @example
 * ```ts
 * import { prometheusSource } from '@ballast/slo';
 * prometheusSource('http_requests_total{code=~"5.."}'); // { type: 'prometheus', kind: 'selector', query: ... }
 * prometheusSource('sum(rate(x[5m]))'); // undefined
 * ```
 */
export function prometheusSource(query: string): PrometheusSource | undefined {
  if (new RegExp(WINDOW_PLACEHOLDER.source).test(query)) {
    return { type: 'prometheus', kind: 'expression', query: query.trim() };
  }
  if (SELECTOR.test(query)) return { type: 'prometheus', kind: 'selector', query: query.trim() };
  return undefined;
}

/**
 * The PromQL for the rate of events of `source` over `window`: `sum(rate(<selector>[<window>]))` for a selector,
 * the expression with `{{.window}}` replaced for an expression.
 *
 * @example
 * ```ts
 * import { windowedQuery } from '@ballast/slo';
 * windowedQuery({ type: 'prometheus', kind: 'selector', query: 'http_requests_total' }, '5m');
 * // 'sum(rate(http_requests_total[5m]))'
 * ```
 */
export function windowedQuery(source: PrometheusSource, window: string): string {
  return source.kind === 'selector'
    ? `sum(rate(${source.query}[${window}]))`
    : source.query.replace(WINDOW_PLACEHOLDER, window);
}
