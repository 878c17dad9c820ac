import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { reportError } from '@ballast/core';
import { UNMATCHED_ROUTE } from '../catalog.js';
import type { MetricsRegistry } from '../metrics-registry.js';
import { errorTypeOf } from './error-type.js';
import { exemplarOf, serverSpan } from './exemplar.js';
import { normalizeMethod } from './method.js';
import {
  type RouteState,
  SKIP_WRAP,
  instrumentRouter,
  startRouteCapture,
  stateOf,
  templateOf,
} from './route-capture.js';
import type { BallastHistogram } from '../histogram.js';
import type { LabelCap } from '../cardinality-guard.js';
import type { Span } from '@opentelemetry/api';

/** Options for {@link redMiddleware}. */
export interface RedOptions {
  /**
   * Returns the tenant of a request; when given, the duration histogram gets a `tenant` label, bounded by the
   * cardinality guard (values past the cap become `__overflow__`).
   * @default undefined (no tenant label)
   * @example
   * ```ts
   * redMiddleware(metrics, { tenant: (req) => req.headers['x-tenant-id'] as string | undefined });
   * ```
   */
  readonly tenant?: (req: IncomingMessage) => string | undefined;
  /**
   * Attach the active trace (`trace_id`, `span_id`) as an exemplar to the histogram bucket of each sampled request;
   * exemplars are served only to OpenMetrics scrapes.
   * @default true
   * @example
   * ```ts
   * redMiddleware(metrics, { exemplars: false });
   * ```
   */
  readonly exemplars?: boolean;
}

/** An express-compatible middleware. */
export type RedMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

const DURATION = 'http_server_request_duration_seconds';
const STATUS_TEXT: string[] = [];

function statusText(status: number): string {
  return (STATUS_TEXT[status] ??= String(status));
}

interface ActiveEntry {
  readonly labels: Record<string, string>;
  count: number;
}

/** One request's route state plus what recording it needs. */
class RequestRecord implements RouteState {
  prefix = '';
  route: string | undefined = undefined;
  candidate: string | undefined = undefined;
  error: unknown = undefined;
  /** Records of further RED middlewares on the same request, which share this route state. */
  also: RequestRecord[] | undefined = undefined;
  constructor(
    readonly start: number,
    readonly method: string,
    readonly entry: ActiveEntry,
    readonly span: Span | undefined,
    readonly req: IncomingMessage,
    readonly recorder: Recorder,
  ) {}
}

function onResponseClose(this: ServerResponse): void {
  const record = stateOf(this);
  if (!(record instanceof RequestRecord)) return;
  record.recorder.record(this, record, record);
  if (record.also) for (const other of record.also) other.recorder.record(this, other, record);
}

/** The instruments and caps of one RED middleware. */
class Recorder {
  readonly #histogram: BallastHistogram;
  readonly #routes: LabelCap;
  readonly #errorTypes: LabelCap;
  readonly #tenants: LabelCap;
  readonly #tenantOf: ((req: IncomingMessage) => string | undefined) | undefined;
  readonly #http = new Map<string, ActiveEntry>();
  readonly #https = new Map<string, ActiveEntry>();

  constructor(metrics: MetricsRegistry, options: RedOptions) {
    this.#histogram = metrics.histogram(DURATION);
    this.#routes = metrics.guard.cap(DURATION, 'http_route');
    this.#errorTypes = metrics.guard.cap(DURATION, 'error_type');
    this.#tenants = metrics.guard.cap(DURATION, 'tenant');
    this.#tenantOf = options.tenant;
    metrics.onCollect(ACTIVE, (gauge) => {
      for (const entries of [this.#http, this.#https]) {
        for (const entry of entries.values()) if (entry.count !== 0) gauge.inc(entry.labels, entry.count);
      }
    });
  }

  /** The in-flight counter of `method` over http or https. */
  active(method: string, https: boolean): ActiveEntry {
    const entries = https ? this.#https : this.#http;
    let entry = entries.get(method);
    if (entry === undefined) {
      entry = { labels: { http_request_method: method, url_scheme: https ? 'https' : 'http' }, count: 0 };
      entries.set(method, entry);
    }
    return entry;
  }

  /** Records one request: its own data from `record`, the route and error from `route` (the capturing record). */
  record(res: ServerResponse, record: RequestRecord, route: RouteState): void {
    record.entry.count--;
    try {
      const finished = res.writableFinished;
      const status = res.statusCode;
      const labels: Record<string, string> = {
        http_request_method: record.method,
        http_route: this.#routes.value(templateOf(route) ?? UNMATCHED_ROUTE),
        http_response_status_code: finished || res.headersSent ? statusText(status) : '',
      };
      if (!finished) labels.error_type = 'aborted';
      else if (status >= 500) {
        labels.error_type = this.#errorTypes.value(
          route.error === undefined ? statusText(status) : errorTypeOf(route.error),
        );
      }
      if (this.#tenantOf) {
        const tenant = this.#tenantOf(record.req);
        if (tenant !== undefined) labels.tenant = this.#tenants.value(tenant);
      }
      this.#histogram.observe(labels, (performance.now() - record.start) / 1000, exemplarOf(record.span));
    } catch (error) {
      reportError(error, 'recording an HTTP server request');
    }
  }
}
const ACTIVE = 'http_server_active_requests';

/**
 * RED metrics for an express app: `http_server_request_duration_seconds{http_request_method, http_route,
 * http_response_status_code, error_type}` (OpenTelemetry buckets, exemplars) and `http_server_active_requests`.
 * Mount it first (`app.use(redMiddleware(metrics))`); routes added before or after are captured with their full
 * template, including router mount paths (`/api/users/:id`); unmatched requests get `__unmatched__`. A request
 * is recorded once, when the response finished or the client closed the connection (`error_type="aborted"`);
 * errors passed to `next(err)` (including thrown ones) give `error_type` their class name on 5xx responses.
 * Recording never throws into the request.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createMetricsRegistry, metricsHandler, redMiddleware } from '@ballast/telemetry';
 * const metrics = createMetricsRegistry();
 * const app = express();
 * app.use(redMiddleware(metrics));
 * app.get('/metrics', metricsHandler(metrics));
 * ```
 */
export function redMiddleware(metrics: MetricsRegistry, options: RedOptions = {}): RedMiddleware {
  const recorder = new Recorder(metrics, options);
  const exemplars = options.exemplars ?? true;
  const middleware: RedMiddleware = (req, res, next) => {
    const method = normalizeMethod(req.method);
    const entry = recorder.active(method, (req.socket as TLSSocket | undefined)?.encrypted === true);
    entry.count++;
    const record = new RequestRecord(
      performance.now(),
      method,
      entry,
      exemplars ? serverSpan() : undefined,
      req,
      recorder,
    );
    const earlier = stateOf(res);
    if (earlier instanceof RequestRecord) {
      // Another RED middleware (another registry) already captures this request: share its route state.
      (earlier.also ??= []).push(record);
      next();
      return;
    }
    startRouteCapture(res, record);
    try {
      instrumentRouter((req as { app?: { router?: unknown } }).app?.router);
    } catch (error) {
      reportError(error, 'capturing express routes');
    }
    // 'close' fires exactly once per response (after 'finish', or when the connection dropped first). One shared
    // listener: the request's data travels in its record, so no closure is allocated per request.
    res.on('close', onResponseClose);
    next();
  };
  (middleware as unknown as Record<symbol, boolean>)[SKIP_WRAP] = true;
  return middleware;
}
