import type { Subscription } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';
import { type PolicyLike, observePolicy } from '../policy/policy-metrics.js';

/**
 * USE metrics for a rate limiter, from its events: `ballast_rate_limit_decisions_total{decision}` (limited / total
 * is its saturation; the busiest keys are deliberately not labels), and errors of its store
 * (`ballast_policy_store_errors_total{fail_mode}`), plus the generic policy metrics.
 *
 * @example
 * ```ts
 * import { observeRateLimiter } from '@ballast/telemetry';
 * observeRateLimiter(metrics, limiter);
 * ```
 */
export function observeRateLimiter(metrics: MetricsRegistry, limiter: PolicyLike): Subscription {
  return observePolicy(metrics, limiter);
}
