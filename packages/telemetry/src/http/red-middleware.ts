import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { reportError } from '@ballast/core';
import { UNMATCHED_ROUTE } from '../catalog.js';
import type { MetricsRegistry } from '../metrics-registry.js';
import { errorTypeOf } from './error-type.js';
import { exemplarOf, serverSpan } from './exemplar.js';
import { normalizeMethod } from './method.js';
import { SKIP_WRAP, instrumentRouter, startRouteCapture, templateOf } from './route-capture.js';

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
  const histogram = metrics.histogram(DURATION);
  const routes = metrics.guard.cap(DURATION, 'http_route');
  const errorTypes = metrics.guard.cap(DURATION, 'error_type');
  const tenants = metrics.guard.cap(DURATION, 'tenant');
  const tenantOf = options.tenant;
  const exemplars = options.exemplars ?? true;
  const active = new Map<string, { labels: Record<string, string>; count: number }>();
  metrics.onCollect(ACTIVE, (gauge) => {
    for (const entry of active.values()) if (entry.count !== 0) gauge.inc(entry.labels, entry.count);
  });
  const activeEntry = (method: string, scheme: string) => {
    const key = `${method} ${scheme}`;
    let entry = active.get(key);
    if (entry === undefined) {
      entry = { labels: { http_request_method: method, url_scheme: scheme }, count: 0 };
      active.set(key, entry);
    }
    return entry;
  };

  const middleware: RedMiddleware = (req, res, next) => {
    const start = performance.now();
    const method = normalizeMethod(req.method);
    const entry = activeEntry(method, (req.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http');
    entry.count++;
    const state = startRouteCapture(req, res);
    const span = exemplars ? serverSpan() : undefined;
    try {
      instrumentRouter((req as { app?: { router?: unknown } }).app?.router);
    } catch (error) {
      reportError(error, 'capturing express routes');
    }
    // 'close' fires exactly once per response (after 'finish', or when the connection dropped first).
    res.on('close', () => {
      entry.count--;
      try {
        const finished = res.writableFinished;
        const status = res.statusCode;
        const labels: Record<string, string> = {
          http_request_method: method,
          http_route: routes.value(templateOf(state) ?? UNMATCHED_ROUTE),
          http_response_status_code: finished || res.headersSent ? statusText(status) : '',
        };
        if (!finished) labels.error_type = 'aborted';
        else if (status >= 500) {
          labels.error_type = errorTypes.value(
            state.error === undefined ? statusText(status) : errorTypeOf(state.error),
          );
        }
        if (tenantOf) {
          const tenant = tenantOf(req);
          if (tenant !== undefined) labels.tenant = tenants.value(tenant);
        }
        const value = (performance.now() - start) / 1000;
        histogram.observe(labels, value, exemplarOf(span));
      } catch (error) {
        reportError(error, 'recording an HTTP server request');
      }
    });
    next();
  };
  (middleware as unknown as Record<symbol, boolean>)[SKIP_WRAP] = true;
  return middleware;
}
