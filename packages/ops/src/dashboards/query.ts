/**
 * PromQL helpers for dashboard panels: every selector is scoped to the dashboard's `$job` and `$instance`, and
 * every rate uses Grafana's `$__rate_interval` (at least four scrape intervals, so a rate always has two samples).
 */

/** `metric{job=~"$job",instance=~"$instance",<extra>}`. */
export function sel(metric: string, extra = ''): string {
  return `${metric}{job=~"$job",instance=~"$instance"${extra ? `,${extra}` : ''}}`;
}

/** `rate(<sel>[$__rate_interval])`. */
export function rate(metric: string, extra = ''): string {
  return `rate(${sel(metric, extra)}[$__rate_interval])`;
}

/** `increase(<sel>[$__rate_interval])`. */
export function increase(metric: string, extra = ''): string {
  return `increase(${sel(metric, extra)}[$__rate_interval])`;
}

/** `sum by (<by>) (<inner>)`; `by` empty gives `sum(<inner>)`. */
export function sumBy(by: string, inner: string): string {
  return by ? `sum by (${by}) (${inner})` : `sum(${inner})`;
}

/** `histogram_quantile(q, sum by (le, <by>) (rate(<histogram>_bucket[...])))`. */
export function quantile(q: number, histogram: string, by: string, extra = ''): string {
  return `histogram_quantile(${q}, ${sumBy(by ? `le, ${by}` : 'le', rate(`${histogram}_bucket`, extra))})`;
}
