import { invalidOption, reportError } from '@ballast/core';
import { type Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { OTHER_METHOD } from '../catalog.js';
import type { MetricsRegistry } from '../metrics-registry.js';
import { errorTypeOf } from './error-type.js';
import { exemplarOf } from './exemplar.js';
import { normalizeMethod } from './method.js';

const OTHER_HOST = '_OTHER';

/** Options for {@link httpClientMetrics} and {@link instrumentFetch}. */
export interface HttpClientOptions {
  /**
   * Hosts that may appear in the `server_address` label; any other host is recorded as `_OTHER`. Without a list,
   * every host goes through the cardinality guard (values past the cap become `__overflow__`). Each entry is a
   * host name, a `host:port` (what `new URL(url).host` gives) or a URL; the label, like the semantic conventions'
   * `server.address`, is the host name alone (`server.port` is a span attribute), so the port never decides.
   * @default undefined (no allow-list)
   * @example
   * ```ts
   * instrumentFetch(metrics, { serverAddresses: ['payments.internal', new URL(process.env.STRIPE_URL!).host] });
   * ```
   */
  readonly serverAddresses?: readonly string[];
  /**
   * Start a client span and inject its context (W3C `traceparent`, plus whatever propagator is registered) into
   * the request headers.
   * @default true
   * @example
   * ```ts
   * instrumentFetch(metrics, { propagate: false });
   * ```
   */
  readonly propagate?: boolean;
}

/** What the generic hook needs to know when a request ends. */
export interface ClientRequestResult {
  /** Status code received, when a response arrived. */
  readonly statusCode?: number;
  /** What was thrown, when the request failed without a response. */
  readonly error?: unknown;
}

/** One outbound request in flight (see {@link HttpClientMetrics.start}). */
export interface ClientRequestHandle {
  /** Headers to send with the request (`traceparent`, `tracestate`, ...); empty when nothing is propagated. */
  readonly headers: Readonly<Record<string, string>>;
  /** Records the request; call exactly once. Later calls are ignored. */
  end(result: ClientRequestResult): void;
}

/** The generic outbound hook returned by {@link httpClientMetrics}. */
export interface HttpClientMetrics {
  /** Call when a request starts; send `headers` with it and call `end` when it completes. */
  start(method: string, url: string | URL): ClientRequestHandle;
}

const DURATION = 'http_client_request_duration_seconds';
const tracer = () => trace.getTracer('@ballast/telemetry');

/**
 * A hook for any HTTP client: `start(method, url)` opens a client span, returns the propagation headers, and
 * `end({ statusCode } | { error })` records `http_client_request_duration_seconds{http_request_method,
 * server_address, http_response_status_code, error_type}` with a bounded `server_address`.
 *
 * @example
 * ```ts
 * import { httpClientMetrics } from '@ballast/telemetry';
 * const client = httpClientMetrics(metrics, { serverAddresses: ['inventory'] });
 * const call = client.start('GET', 'http://inventory/items/1');
 * const res = await got('http://inventory/items/1', { headers: call.headers });
 * call.end({ statusCode: res.statusCode });
 * ```
 */
export function httpClientMetrics(
  metrics: MetricsRegistry,
  options: HttpClientOptions = {},
): HttpClientMetrics {
  const histogram = metrics.histogram(DURATION);
  const allowed = options.serverAddresses
    ? new Set(options.serverAddresses.map((entry, i) => hostnameOf(entry, `serverAddresses[${i}]`)))
    : undefined;
  const propagate = options.propagate ?? true;
  return {
    start(rawMethod, url) {
      const started = performance.now();
      const method = normalizeMethod(rawMethod);
      let host = '';
      let port: number | undefined;
      let full = '';
      try {
        const parsed = typeof url === 'string' ? new URL(url) : url;
        host = parsed.hostname.toLowerCase();
        port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
        full = `${parsed.protocol}//${parsed.host}${parsed.pathname}`; // no query: it may carry secrets
      } catch {
        host = '';
      }
      const address =
        allowed && !allowed.has(host) ? OTHER_HOST : metrics.label(DURATION, 'server_address', host);
      const headers: Record<string, string> = {};
      let span: Span | undefined;
      if (propagate) {
        try {
          span = tracer().startSpan(method === OTHER_METHOD ? 'HTTP' : method, {
            kind: SpanKind.CLIENT,
            attributes: {
              'http.request.method': method,
              'server.address': host,
              ...(port === undefined ? {} : { 'server.port': port }),
              ...(full ? { 'url.full': full } : {}),
            },
          });
          propagation.inject(trace.setSpan(context.active(), span), headers);
        } catch (error) {
          reportError(error, 'starting an HTTP client span');
        }
      }
      let ended = false;
      return {
        headers,
        end(result) {
          if (ended) return;
          ended = true;
          try {
            const labels: Record<string, string> = { http_request_method: method, server_address: address };
            let errorType: string | undefined;
            if (result.statusCode !== undefined) {
              labels.http_response_status_code = String(result.statusCode);
              if (result.statusCode >= 400) errorType = String(result.statusCode);
            } else {
              labels.http_response_status_code = '';
              errorType = errorTypeOf(result.error);
            }
            if (errorType !== undefined) labels.error_type = metrics.label(DURATION, 'error_type', errorType);
            const value = (performance.now() - started) / 1000;
            histogram.observe(labels, value, exemplarOf(span));
            if (span) {
              if (result.statusCode !== undefined)
                span.setAttribute('http.response.status_code', result.statusCode);
              if (errorType !== undefined) {
                span.setAttribute('error.type', errorType);
                span.setStatus({ code: SpanStatusCode.ERROR });
              }
              if (result.error !== undefined && result.error instanceof Error)
                span.recordException(result.error);
              span.end();
            }
          } catch (error) {
            reportError(error, 'recording an HTTP client request');
          }
        },
      };
    },
  };
}

/**
 * The host name of an allow-list entry, as `URL.hostname` spells it for a request (lower case, IPv6 in brackets,
 * no port), so the entry and the request compare equal whatever form the entry was given in.
 */
function hostnameOf(entry: unknown, where: string): string {
  if (typeof entry === 'string' && entry.trim() !== '') {
    const text = entry.trim();
    const candidates = text.includes('://')
      ? [text]
      : [`http://${text}`, ...(text.includes(':') && !text.startsWith('[') ? [`http://[${text}]`] : [])];
    for (const candidate of candidates) {
      try {
        const hostname = new URL(candidate).hostname;
        if (hostname !== '') return hostname;
      } catch {
        // try the next reading of the entry
      }
    }
  }
  throw invalidOption(where, 'a host name, host:port or URL', entry);
}

/** Options for {@link instrumentFetch}. */
export interface InstrumentFetchOptions extends HttpClientOptions {
  /**
   * The fetch to wrap.
   * @default globalThis.fetch
   * @example
   * ```ts
   * instrumentFetch(metrics, { fetch: undici.fetch });
   * ```
   */
  readonly fetch?: typeof fetch;
}

/**
 * Wraps `fetch`: records `http_client_request_duration_seconds` (until the response headers arrive, or the
 * failure) and propagates trace context in the request headers. The global `fetch` is never replaced.
 *
 * @example
 * ```ts
 * import { instrumentFetch } from '@ballast/telemetry';
 * const tracedFetch = instrumentFetch(metrics, { serverAddresses: ['inventory'] });
 * const res = await tracedFetch('http://inventory/items/1');
 * ```
 */
export function instrumentFetch(
  metrics: MetricsRegistry,
  options: InstrumentFetchOptions = {},
): typeof fetch {
  const inner = options.fetch ?? globalThis.fetch;
  const client = httpClientMetrics(metrics, options);
  return async function ballastFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const isRequest = typeof Request !== 'undefined' && input instanceof Request;
    const method = init?.method ?? (isRequest ? input.method : 'GET');
    const url = isRequest ? input.url : (input as string | URL);
    const call = client.start(method, url);
    let nextInit = init;
    const injected = Object.entries(call.headers);
    if (injected.length > 0) {
      const headers = new Headers(init?.headers ?? (isRequest ? input.headers : undefined));
      for (const [name, value] of injected) headers.set(name, value);
      nextInit = { ...init, headers };
    }
    try {
      const response = await inner(input, nextInit);
      call.end({ statusCode: response.status });
      return response;
    } catch (error) {
      call.end({ error });
      throw error;
    }
  };
}
