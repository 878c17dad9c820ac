import { metricsHandler } from '../metrics-handler.js';
import type { MetricsRegistry } from '../metrics-registry.js';
import { type RuntimeMetricsOptions, collectRuntimeMetrics } from '../use/runtime.js';
import { type RedOptions, redMiddleware } from './red-middleware.js';

/** The parts of an express application {@link instrumentApp} uses. */
export interface ExpressAppLike {
  use(handler: ReturnType<typeof redMiddleware>): unknown;
  get(path: string, handler: ReturnType<typeof metricsHandler>): unknown;
}

/** Options for {@link instrumentApp}. */
export interface InstrumentAppOptions extends RedOptions {
  /**
   * Path to serve the registry on, or `false` to serve it elsewhere (e.g. a separate admin port).
   * @default '/metrics'
   * @example
   * ```ts
   * instrumentApp(app, metrics, { metricsPath: false });
   * ```
   */
  readonly metricsPath?: string | false;
  /**
   * Collect process USE metrics (prom-client defaults plus event-loop utilization) on the registry.
   * @default true
   * @example
   * ```ts
   * instrumentApp(app, metrics, { runtime: { eventLoopMonitoringPrecision: 20 } });
   * ```
   */
  readonly runtime?: boolean | RuntimeMetricsOptions;
}

/**
 * One call for an express app: mounts {@link redMiddleware} (call this before adding routes so it runs first),
 * serves `/metrics` with {@link metricsHandler}, and collects runtime USE metrics.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createMetricsRegistry, instrumentApp } from '@ballast/telemetry';
 * const app = express();
 * const metrics = createMetricsRegistry();
 * instrumentApp(app, metrics);
 * app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
 * ```
 */
export function instrumentApp(
  app: ExpressAppLike,
  metrics: MetricsRegistry,
  options: InstrumentAppOptions = {},
): void {
  app.use(redMiddleware(metrics, options));
  const path = options.metricsPath ?? '/metrics';
  if (path !== false) app.get(path, metricsHandler(metrics));
  const runtime = options.runtime ?? true;
  if (runtime !== false) collectRuntimeMetrics(metrics, runtime === true ? {} : runtime);
}
