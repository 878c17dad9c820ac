import { invalidOption } from '@ballast/core';
import { parseDuration } from '../duration.js';
import type { Indicator, PrometheusSource, Slo } from '../model.js';
import type { PrometheusClient } from '../prometheus/client.js';
import { sloQueries, type SloQueries } from '../rules/queries.js';
import type { CanaryMetricInput, CanarySloInput } from './judge.js';

/**
 * Which series belong to the canary and which to the baseline, and the interval to compare.
 * @example
 * ```ts
 * const options: CanaryQueryOptions = { canary: 'track="canary"', baseline: 'track="stable"', window: '5m' };
 * ```
 */
export interface CanaryQueryOptions {
  /** Label matchers without braces that select the canary's series (`track="canary"`). */
  readonly canary: string;
  /** Label matchers without braces that select the baseline's series (`track="stable"`). */
  readonly baseline: string;
  /** The interval judged, ending at `at` (`5m`). */
  readonly window: string;
  /** The end of the interval, epoch ms (the caller reads its clock). */
  readonly at: number;
}

/**
 * A latency series to compare per interval: a quantile of a histogram, evaluated every `step` over the window.
 * @example
 * ```ts
 * const latency: CanaryLatencyQuery = { name: 'checkout p50', histogram: 'http_server_request_duration_seconds', matchers: 'route="/api/v1/orders"' };
 * ```
 */
export interface CanaryLatencyQuery {
  readonly name: string;
  /** The histogram's base metric name, without `_bucket`. */
  readonly histogram: string;
  /** Matchers without braces shared by both versions. @default '' */
  readonly matchers?: string;
  /** @default 0.5 */
  readonly quantile?: number;
  /** One value per step. @default '15s' */
  readonly step?: string;
  /**
   * The window of each value's `rate()`. The default, one step, makes the values independent, as the test
   * assumes; it must hold a few scrapes. @default step
   */
  readonly rateWindow?: string;
  /** See {@link CanaryMetricInput.tolerance}. @default 0.2 */
  readonly tolerance?: number;
  /** See {@link CanaryMetricInput.allowedIncrease}, in the histogram's unit. @default 0 */
  readonly allowedIncrease?: number;
}

/** Adds label matchers to a plain series selector (`metric`, `metric{a="b"}` or `{a="b"}`). */
export function withMatchers(selector: string, matchers: string): string {
  const s = selector.trim();
  if (matchers.trim() === '') return s;
  if (s.endsWith('}')) {
    const open = s.indexOf('{');
    const inner = s.slice(open + 1, -1).trim();
    return `${s.slice(0, open)}{${inner === '' ? matchers : `${inner},${matchers}`}}`;
  }
  return `${s}{${matchers}}`;
}

// A metric name with optional braces, followed by a range (`[5m]` or `[{{.window}}]`): the range selectors of an
// expression, which are where its counters are read. Label values may hold any character but their own quote.
const RANGE_SELECTOR =
  /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\})?(\s*\[)/g;

function narrowSource(slo: Slo, source: PrometheusSource, matchers: string): PrometheusSource {
  if (source.kind === 'selector') return { ...source, query: withMatchers(source.query, matchers) };
  let found = 0;
  const query = source.query.replace(
    RANGE_SELECTOR,
    (_all, name: string, braces: string | undefined, range: string) => {
      found++;
      return `${withMatchers(`${name}${braces ?? ''}`, matchers)}${range}`;
    },
  );
  if (found === 0) {
    throw invalidOption(
      `${slo.name}.indicator`,
      'a selector or an expression with range selectors (metric{...}[{{.window}}]) the canary matchers can be added to',
      source.query,
    );
  }
  return { ...source, query };
}

function narrow(slo: Slo, matchers: string): Slo {
  const i = slo.indicator;
  let indicator: Indicator;
  if (i.kind === 'latency') {
    indicator = { ...i, matchers: [i.matchers, matchers].filter((m) => m.trim() !== '').join(',') };
  } else if (i.counts === 'bad') {
    indicator = {
      ...i,
      bad: narrowSource(slo, i.bad, matchers),
      total: narrowSource(slo, i.total, matchers),
    };
  } else {
    indicator = {
      ...i,
      good: narrowSource(slo, i.good, matchers),
      total: narrowSource(slo, i.total, matchers),
    };
  }
  return { ...slo, indicator };
}

/**
 * The SLO's queries narrowed to one version: `matchers` added to every selector of its indicator (in an
 * expression, to every range selector). What {@link canarySlosFromPrometheus} reads, for tools that write the
 * queries out (Argo Rollouts analysis templates, dashboards of a rollout).
 *
 * @example
 * ```ts
 * import { sloQueriesWithMatchers } from '@ballast/slo';
 * sloQueriesWithMatchers(slo, 'track="canary"').errorRatio('5m');
 * ```
 */
export function sloQueriesWithMatchers(slo: Slo, matchers: string): SloQueries {
  return sloQueries(narrow(slo, matchers));
}

function windowSeconds(window: string): number {
  const ms = parseDuration(window);
  if (ms === undefined || ms <= 0)
    throw invalidOption('window', 'a Prometheus duration such as `5m`', window);
  return ms / 1000;
}

async function scalar(client: PrometheusClient, expr: string, at: number): Promise<number> {
  const samples = await client.query(expr, at);
  const value = samples[0]?.value ?? 0;
  return Number.isFinite(value) ? value : 0;
}

/**
 * Reads each SLO's good and total events over the window for the canary and the baseline from Prometheus, ready
 * for {@link judgeCanary}. The SLO's own queries are used with the versions' matchers added to every selector (in
 * an expression, to every range selector).
 *
 * @example
 * ```ts
 * import { PrometheusClient, canarySlosFromPrometheus, judgeCanary } from '@ballast/slo';
 * const client = new PrometheusClient({ url: 'http://127.0.0.1:9090' });
 * const slos = await canarySlosFromPrometheus(client, specs, { canary: 'track="canary"', baseline: 'track="stable"', window: '5m', at: Date.now() });
 * judgeCanary({ slos }).verdict;
 * ```
 */
export async function canarySlosFromPrometheus(
  client: PrometheusClient,
  slos: readonly Slo[],
  options: CanaryQueryOptions,
): Promise<CanarySloInput[]> {
  const seconds = windowSeconds(options.window);
  const counts = async (slo: Slo, matchers: string) => {
    const q = sloQueries(narrow(slo, matchers));
    const [total, bad] = await Promise.all([
      scalar(client, q.total(options.window), options.at),
      scalar(client, q.bad(options.window), options.at),
    ]);
    const totalEvents = Math.round(total * seconds);
    const badEvents = Math.min(totalEvents, Math.max(0, Math.round(bad * seconds)));
    return { good: totalEvents - badEvents, total: totalEvents };
  };
  return Promise.all(
    slos.map(async (slo) => ({
      name: slo.name,
      objective: slo.objective,
      canary: await counts(slo, options.canary),
      baseline: await counts(slo, options.baseline),
    })),
  );
}

/**
 * Reads a latency quantile per step over the window for both versions, ready for {@link judgeCanary}'s metrics.
 *
 * @example
 * ```ts
 * const metric = await canaryLatencyFromPrometheus(client, { name: 'checkout p50', histogram: 'http_server_request_duration_seconds' }, options);
 * judgeCanary({ slos, metrics: [metric] });
 * ```
 */
export async function canaryLatencyFromPrometheus(
  client: PrometheusClient,
  latency: CanaryLatencyQuery,
  options: CanaryQueryOptions,
): Promise<CanaryMetricInput> {
  const seconds = windowSeconds(options.window);
  const step = latency.step ?? '15s';
  const stepSeconds = windowSeconds(step);
  const quantile = latency.quantile ?? 0.5;
  const series = async (matchers: string) => {
    const all = [latency.matchers ?? '', matchers].filter((m) => m.trim() !== '').join(',');
    const expr = `histogram_quantile(${quantile}, sum by (le) (rate(${withMatchers(`${latency.histogram}_bucket`, all)}[${latency.rateWindow ?? step}])))`;
    const result = await client.queryRange(
      expr,
      options.at - seconds * 1000 + stepSeconds * 1000,
      options.at,
      stepSeconds * 1000,
    );
    return (result[0]?.points ?? []).map(([, v]) => v).filter((v) => Number.isFinite(v));
  };
  const [canary, baseline] = await Promise.all([series(options.canary), series(options.baseline)]);
  return {
    name: latency.name,
    canary,
    baseline,
    ...(latency.tolerance === undefined ? {} : { tolerance: latency.tolerance }),
    ...(latency.allowedIncrease === undefined ? {} : { allowedIncrease: latency.allowedIncrease }),
  };
}
