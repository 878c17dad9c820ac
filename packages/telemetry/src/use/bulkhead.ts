import type { Subscription } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';
import { type PolicyLike, observeEventsOf } from '../policy/policy-metrics.js';
import { combine, policyLabel } from './common.js';

/** What {@link observeBulkhead} reads (structurally the `BulkheadGauges` of `@ballast/resilience`). */
export interface BulkheadLike {
  readonly name: string;
  readonly inFlight: number;
  readonly queued: number;
  readonly limit: number;
  /** When present (a Ballast bulkhead policy), rejections and sheds are counted from its events too. */
  readonly onEvent?: PolicyLike['onEvent'];
  readonly kind?: string;
}

/**
 * USE metrics for a bulkhead: utilization (`ballast_bulkhead_in_flight`, `ballast_bulkhead_limit`,
 * `ballast_bulkhead_utilization_ratio`), saturation (`ballast_bulkhead_queued`) and, when it emits policy events,
 * errors (`ballast_bulkhead_rejections_total`, `ballast_load_shed_total`). Gauges are read at scrape time.
 *
 * @example
 * ```ts
 * import { observeBulkhead } from '@ballast/telemetry';
 * const sub = observeBulkhead(metrics, bulkhead);
 * // later: sub.dispose();
 * ```
 */
export function observeBulkhead(metrics: MetricsRegistry, bulkhead: BulkheadLike): Subscription {
  const labels = { policy: policyLabel(metrics, bulkhead.name) };
  const subs = [
    metrics.onCollect('ballast_bulkhead_in_flight', (g) => g.set(labels, bulkhead.inFlight)),
    metrics.onCollect('ballast_bulkhead_queued', (g) => g.set(labels, bulkhead.queued)),
    metrics.onCollect('ballast_bulkhead_limit', (g) => g.set(labels, bulkhead.limit)),
    metrics.onCollect('ballast_bulkhead_utilization_ratio', (g) =>
      g.set(labels, bulkhead.limit > 0 ? bulkhead.inFlight / bulkhead.limit : 0),
    ),
  ];
  const events = observeEventsOf(metrics, bulkhead, 'bulkhead');
  if (events) subs.push(events);
  return combine(subs);
}
