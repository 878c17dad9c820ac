import type { IncomingMessage, ServerResponse } from 'node:http';
import { reportError } from '@ballast/core';
import type { Registry, RegistryContentType } from 'prom-client';
import {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type RenderOptions,
  negotiateFormat,
  renderMetrics,
} from './exposition.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** A request handler usable with express (`app.get('/metrics', handler)`) and with `node:http` directly. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Serves `/metrics` for one registry with content negotiation: OpenMetrics (with exemplars) when the `Accept`
 * header asks for `application/openmetrics-text` (as Prometheus does when exemplar storage is on), otherwise the
 * Prometheus text format 0.0.4. A failing scrape answers 500 and is reported, never thrown.
 *
 * @example
 * ```ts
 * import { createMetricsRegistry, metricsHandler } from '@ballast/telemetry';
 * const metrics = createMetricsRegistry();
 * app.get('/metrics', metricsHandler(metrics));
 * ```
 */
export function metricsHandler(
  registry: MetricsRegistry | Registry<RegistryContentType>,
  options: RenderOptions = {},
): MetricsRequestHandler {
  return async (req, res) => {
    const format = negotiateFormat(req.headers.accept);
    try {
      const body = await renderMetrics(registry, format, options);
      res.statusCode = 200;
      res.setHeader(
        'Content-Type',
        format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
      );
      res.setHeader('Cache-Control', 'no-store');
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      reportError(error, 'rendering /metrics');
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      }
      res.end('metrics collection failed\n');
    }
  };
}
