import { collectDefaultMetrics } from 'prom-client';
import { checkNumber } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';

/** Options for {@link collectRuntimeMetrics}. */
export interface RuntimeMetricsOptions {
  /**
   * Sampling interval (milliseconds) of the event-loop delay monitor behind `nodejs_eventloop_lag_p50_seconds` and
   * friends (`perf_hooks.monitorEventLoopDelay`); lower is more precise and costs more.
   * @default 10
   * @example
   * ```ts
   * collectRuntimeMetrics(metrics, { eventLoopMonitoringPrecision: 20 });
   * ```
   */
  readonly eventLoopMonitoringPrecision?: number;
}

/**
 * USE metrics of the Node.js process: prom-client's default collectors (CPU, memory, heap and heap spaces, GC
 * pauses, event-loop delay min/mean/p50/p90/p99/max, handles, requests, file descriptors), registered on this
 * registry only, plus `ballast_nodejs_eventloop_utilization_ratio` (share of time the loop was busy since the
 * previous scrape, from `performance.eventLoopUtilization()`). Calling it twice on one registry is a no-op.
 *
 * @example
 * ```ts
 * import { collectRuntimeMetrics, createMetricsRegistry } from '@ballast/telemetry';
 * const metrics = createMetricsRegistry();
 * collectRuntimeMetrics(metrics);
 * ```
 */
export function collectRuntimeMetrics(metrics: MetricsRegistry, options: RuntimeMetricsOptions = {}): void {
  const precision = checkNumber('eventLoopMonitoringPrecision', options.eventLoopMonitoringPrecision, 10, {
    integer: true,
    min: 1,
  });
  if (metrics.prom.getSingleMetric('process_cpu_seconds_total')) return;
  collectDefaultMetrics({ register: metrics.prom, eventLoopMonitoringPrecision: precision });
  let last = performance.eventLoopUtilization();
  metrics.onCollect('ballast_nodejs_eventloop_utilization_ratio', (gauge) => {
    const now = performance.eventLoopUtilization();
    gauge.set(performance.eventLoopUtilization(now, last).utilization);
    last = now;
  });
}
