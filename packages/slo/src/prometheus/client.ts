import { brand, checkNumber, hasBrand, invalidOption } from '@ballast/core';

const kQueryError = Symbol.for('ballast.slo.PrometheusQueryError');

/**
 * A query Prometheus rejected or could not answer (HTTP error, timeout, `status: "error"`). The message names the
 * query and Prometheus's error.
 *
 * @example
 * ```ts
 * try { await client.query('sum(rate(x[5m]))', now); } catch (e) { if (isPrometheusQueryError(e)) console.error(e.query); }
 * ```
 */
export class PrometheusQueryError extends Error {
  /** The PromQL that failed. */
  readonly query: string;
  constructor(message: string, query: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusQueryError';
    this.query = query;
    brand(this, kQueryError);
  }
}

/**
 * True when `value` is a {@link PrometheusQueryError}, even from another copy of the package.
 *
 * @example
 * ```ts
 * const status = await backend.status('checkout').catch((e: unknown) => (isPrometheusQueryError(e) ? undefined : Promise.reject(e)));
 * ```
 */
export function isPrometheusQueryError(value: unknown): value is PrometheusQueryError {
  return hasBrand(value, kQueryError);
}

/**
 * One series of an instant query answer: its labels and its value.
 *
 * @example
 * ```ts
 * const [sample] = await client.query('sum(up)', Date.now()); // { labels: {}, value: 3 }
 * ```
 */
export interface PrometheusSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * One series of a range query answer.
 *
 * @example
 * ```ts
 * const [series] = await client.queryRange('sum(up)', start, end, 60_000); // { labels: {}, points: [[start, 3], ...] }
 * ```
 */
export interface PrometheusRangeSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** `[epoch ms, value]` pairs, oldest first. */
  readonly points: readonly (readonly [number, number])[];
}

/**
 * Options of {@link PrometheusClient}.
 *
 * @example
 * ```ts
 * const options: PrometheusClientOptions = { url: 'http://prometheus:9090', timeoutMs: 5000 };
 * ```
 */
export interface PrometheusClientOptions {
  /** Base URL of the Prometheus HTTP API (`http://127.0.0.1:9090`, or a path prefix behind a proxy). */
  readonly url: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Per-request timeout. @default 10_000 */
  readonly timeoutMs?: number;
}

interface ApiAnswer {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

/**
 * A small client of the Prometheus HTTP API: instant queries (`/api/v1/query`) and range queries
 * (`/api/v1/query_range`), with times in epoch milliseconds. Scalars are returned as one sample without labels.
 *
 * @example
 * ```ts
 * import { PrometheusClient } from '@ballast/slo';
 * const client = new PrometheusClient({ url: 'http://127.0.0.1:9090' });
 * const [up] = await client.query('sum(up)', Date.now());
 * ```
 */
export class PrometheusClient {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: PrometheusClientOptions) {
    if (typeof options?.url !== 'string' || !/^https?:\/\//.test(options.url)) {
      throw invalidOption('url', 'an http(s) URL such as `http://127.0.0.1:9090`', options?.url);
    }
    this.#base = options.url.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = checkNumber('timeoutMs', options.timeoutMs, 10_000, { above: 0 });
  }

  async #get(path: string, params: Record<string, string>, query: string): Promise<ApiAnswer['data']> {
    const url = `${this.#base}${path}?${new URLSearchParams(params).toString()}`;
    let response: Response;
    try {
      response = await this.#fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      throw new PrometheusQueryError(
        `Prometheus at ${this.#base} did not answer ${JSON.stringify(query)}: ${error instanceof Error ? error.message : String(error)}`,
        query,
        { cause: error },
      );
    }
    let body: ApiAnswer;
    try {
      body = (await response.json()) as ApiAnswer;
    } catch (error) {
      throw new PrometheusQueryError(
        `Prometheus at ${this.#base} answered ${JSON.stringify(query)} with HTTP ${response.status} and no JSON`,
        query,
        { cause: error },
      );
    }
    if (!response.ok || body.status !== 'success') {
      throw new PrometheusQueryError(
        `Prometheus rejected ${JSON.stringify(query)}: ${body.errorType ?? `HTTP ${response.status}`}: ${body.error ?? 'no error message'}`,
        query,
      );
    }
    return body.data;
  }

  /** Evaluates `expr` at `time` (epoch ms). */
  async query(expr: string, time: number): Promise<PrometheusSample[]> {
    const data = await this.#get('/api/v1/query', { query: expr, time: String(time / 1000) }, expr);
    const result = data?.result;
    if (data?.resultType === 'scalar' && Array.isArray(result)) {
      return [{ labels: {}, value: Number(result[1]) }];
    }
    if (data?.resultType !== 'vector' || !Array.isArray(result)) {
      throw new PrometheusQueryError(`expected an instant vector for ${JSON.stringify(expr)}`, expr);
    }
    return (result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
    }));
  }

  /** Evaluates `expr` at every `stepMs` from `start` to `end` (epoch ms). */
  async queryRange(
    expr: string,
    start: number,
    end: number,
    stepMs: number,
  ): Promise<PrometheusRangeSeries[]> {
    const data = await this.#get(
      '/api/v1/query_range',
      { query: expr, start: String(start / 1000), end: String(end / 1000), step: String(stepMs / 1000) },
      expr,
    );
    const result = data?.result;
    if (data?.resultType !== 'matrix' || !Array.isArray(result)) {
      throw new PrometheusQueryError(`expected a range vector for ${JSON.stringify(expr)}`, expr);
    }
    return (result as { metric: Record<string, string>; values: [number, string][] }[]).map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]) => [t * 1000, Number(v)] as const),
    }));
  }
}
