import type { Subscription } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';
import { type PolicyLike, observeEventsOf } from '../policy/policy-metrics.js';
import { combine, policyLabel } from './common.js';

const PRIORITIES = ['critical', 'default', 'sheddable'] as const;

/** What {@link observeConcurrencyLimiter} reads (structurally `ConcurrencyLimiterGauges` of `@ballast/resilience`). */
export interface ConcurrencyLimiterLike {
  readonly name: string;
  readonly inFlight: number;
  readonly limit: number;
  readonly inFlightByPriority?: Readonly<Partial<Record<'critical' | 'default' | 'sheddable', number>>>;
  /** Calls of `priority` waiting in the limiter's queue for a permit; when present, `ballast_concurrency_queued`. */
  queuedOf?(priority: 'critical' | 'default' | 'sheddable'): number;
  /**
   * Calls waiting for one of their own tenant's places (a tenant over its share, not in the queue); when present,
   * `ballast_concurrency_tenant_queued`.
   */
  readonly tenantQueued?: number;
  /** When present, sheds, rejections and limit changes are counted from its events too. */
  readonly onEvent?: PolicyLike['onEvent'];
  readonly kind?: string;
}

/**
 * USE metrics for an adaptive concurrency limiter: `ballast_concurrency_limit`, `ballast_concurrency_in_flight`
 * (per priority when the limiter reports it, else `priority="default"`), `ballast_concurrency_utilization_ratio`,
 * its saturation when it reports it: `ballast_concurrency_queued{priority}` (calls waiting for a permit) and
 * `ballast_concurrency_tenant_queued` (calls waiting for their own tenant's places), and from its events
 * `ballast_load_shed_total{priority}` and rejections. A `ConcurrencyLimiter` of `@ballast/resilience` reports all
 * of them.
 *
 * @example
 * ```ts
 * import { observeConcurrencyLimiter } from '@ballast/telemetry';
 * observeConcurrencyLimiter(metrics, limiter);
 * ```
 */
export function observeConcurrencyLimiter(
  metrics: MetricsRegistry,
  limiter: ConcurrencyLimiterLike,
): Subscription {
  const policy = policyLabel(metrics, limiter.name);
  const labels = { policy };
  const subs = [
    metrics.onCollect('ballast_concurrency_limit', (g) => g.set(labels, limiter.limit)),
    metrics.onCollect('ballast_concurrency_utilization_ratio', (g) =>
      g.set(labels, limiter.limit > 0 ? limiter.inFlight / limiter.limit : 0),
    ),
    metrics.onCollect('ballast_concurrency_in_flight', (g) => {
      const by = limiter.inFlightByPriority;
      if (by === undefined) {
        g.set({ policy, priority: 'default' }, limiter.inFlight);
        return;
      }
      for (const priority of PRIORITIES) g.set({ policy, priority }, by[priority] ?? 0);
    }),
  ];
  if (limiter.queuedOf !== undefined) {
    subs.push(
      metrics.onCollect('ballast_concurrency_queued', (g) => {
        for (const priority of PRIORITIES) g.set({ policy, priority }, limiter.queuedOf?.(priority) ?? 0);
      }),
    );
  }
  if (limiter.tenantQueued !== undefined) {
    subs.push(
      metrics.onCollect('ballast_concurrency_tenant_queued', (g) => g.set(labels, limiter.tenantQueued ?? 0)),
    );
  }
  const events = observeEventsOf(metrics, limiter, 'concurrency-limiter');
  if (events) subs.push(events);
  return combine(subs);
}
