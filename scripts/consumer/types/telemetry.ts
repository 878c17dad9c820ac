import type { Subscription } from '@ballast/core';
import { BulkheadPolicy, RetryPolicy } from '@ballast/resilience';
import { SloEngine, defineSlo } from '@ballast/slo';
import {
  type MetricsRegistry,
  type MetricsRequestHandler,
  type RedMiddleware,
  createMetricsRegistry,
  metricsHandler,
  observeBulkhead,
  observePolicies,
  observePolicy,
  observeSlos,
  redMiddleware,
  renderMetrics,
} from '@ballast/telemetry';
import { type TelemetryHandle, startTelemetry } from '@ballast/telemetry/tracing';
import { exactly } from './expect.js';

export async function telemetry(): Promise<void> {
  const metrics = createMetricsRegistry();
  exactly<MetricsRegistry>()(metrics);
  const retry = new RetryPolicy();
  const bulkhead = new BulkheadPolicy({ limit: 4 });
  exactly<Subscription>()(observePolicy(metrics, retry));
  exactly<Subscription>()(observePolicies(metrics, [retry, bulkhead]));
  exactly<Subscription>()(observeBulkhead(metrics, bulkhead));

  const slo = defineSlo({
    service: 'checkout',
    name: 'availability',
    objective: 0.99,
    window: '7d',
    indicator: { bad: 'errors_total', total: 'requests_total' },
  });
  exactly<Subscription>()(observeSlos(metrics, new SloEngine({ slos: [slo] })));

  exactly<RedMiddleware>()(redMiddleware(metrics));
  exactly<MetricsRequestHandler>()(metricsHandler(metrics));
  exactly<string>()(await renderMetrics(metrics, 'openmetrics'));

  const handle = startTelemetry({ serviceName: 'checkout' });
  exactly<TelemetryHandle>()(handle);
  exactly<Promise<void>>()(handle.shutdown());
}
