import { type Event, type PolicyEvent, type Subscription, reportError } from '@ballast/core';
import type { Counter } from 'prom-client';
import type { BallastHistogram } from '../histogram.js';
import type { MetricsRegistry } from '../metrics-registry.js';
import { combine, policyLabel } from '../use/common.js';
import { addPolicySpanEvent } from './span-events.js';

/** Anything that follows the `@ballast/resilience` policy contract (`name`, `kind`, `onEvent`). */
export interface PolicyLike {
  readonly name: string;
  readonly kind: string;
  readonly onEvent: Event<PolicyEvent>;
  /** A circuit breaker's current state, read at scrape time when present. */
  readonly state?: unknown;
  /** A concurrency limiter's current limit, read at scrape time when present. */
  readonly limit?: unknown;
}

/** Options for {@link observePolicy}. */
export interface PolicyMetricsOptions {
  /**
   * Add span events to the active span for breaker rejections, load sheds, other rejections and retries.
   * @default true
   * @example
   * ```ts
   * observePolicy(metrics, breaker, { spanEvents: false });
   * ```
   */
  readonly spanEvents?: boolean;
}

const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated'] as const;
const observed = new WeakMap<MetricsRegistry, WeakMap<object, Subscription>>();

/**
 * Subscribes to a policy's events and publishes them:
 * `ballast_policy_calls_total{policy,outcome}`, `ballast_policy_call_duration_seconds{policy,outcome}`,
 * `ballast_policy_rejections_total{policy,reason}`, `ballast_circuit_breaker_state{policy,state}`,
 * `ballast_circuit_breaker_transitions_total{policy,from,to}`, `ballast_bulkhead_rejections_total{policy,reason}`,
 * `ballast_load_shed_total{policy,priority}`, `ballast_retry_attempts_total{policy}`,
 * `ballast_retry_budget_exhausted_total{policy}`, `ballast_rate_limit_decisions_total{policy,decision}`,
 * `ballast_concurrency_limit{policy}`, `ballast_timeouts_total`, `ballast_fallbacks_total`,
 * `ballast_cache_results_total`, `ballast_chaos_injections_total`, `ballast_policy_store_errors_total`.
 * Observing the same policy twice on one registry returns the first subscription (nothing is counted twice).
 * Recording never throws into the policy.
 *
 * @example
 * ```ts
 * import { observePolicy } from '@ballast/telemetry';
 * const sub = observePolicy(metrics, breaker);
 * // later: sub.dispose();
 * ```
 */
export function observePolicy(
  metrics: MetricsRegistry,
  policy: PolicyLike,
  options: PolicyMetricsOptions = {},
): Subscription {
  let perRegistry = observed.get(metrics);
  if (!perRegistry) {
    perRegistry = new WeakMap();
    observed.set(metrics, perRegistry);
  }
  const existing = perRegistry.get(policy);
  if (existing) return existing;

  const name = policyLabel(metrics, policy.name);
  const spanEvents = options.spanEvents ?? true;
  const calls = metrics.counter('ballast_policy_calls_total');
  const duration = metrics.histogram('ballast_policy_call_duration_seconds');
  const subs: Subscription[] = [];
  const lazy: Record<string, Counter | undefined> = {};
  const counter = (metric: string): Counter => (lazy[metric] ??= metrics.counter(metric));
  // Pre-built label objects for the hot events (one object per outcome, not per call).
  const success = { policy: name, outcome: 'success' };
  const failure = { policy: name, outcome: 'failure' };
  const rejected = { policy: name, outcome: 'rejected' };
  const byPolicy = { policy: name };

  let breakerState: string | undefined;
  if (policy.kind === 'circuit-breaker') {
    breakerState = validState(policy.state) ?? 'closed';
    subs.push(
      metrics.onCollect('ballast_circuit_breaker_state', (g) => {
        const current = validState(policy.state) ?? breakerState;
        for (const state of BREAKER_STATES) g.set({ policy: name, state }, state === current ? 1 : 0);
      }),
    );
  }
  let lastLimit: number | undefined;
  if (policy.kind === 'concurrency-limiter') {
    subs.push(
      metrics.onCollect('ballast_concurrency_limit', (g) => {
        const limit = typeof policy.limit === 'number' ? policy.limit : lastLimit;
        if (limit !== undefined) g.set(byPolicy, limit);
      }),
    );
  }

  const onEvent = (event: PolicyEvent): void => {
    try {
      switch (event.type) {
        case 'success':
          calls.inc(success);
          observe(duration, success, event.durationMs);
          break;
        case 'failure':
          calls.inc(failure);
          observe(duration, failure, event.durationMs);
          break;
        case 'rejected': {
          calls.inc(rejected);
          counter('ballast_policy_rejections_total').inc({ policy: name, reason: event.reason });
          // A limiter that drops a call from its queue has shed it too (the alert on shed critical traffic reads this).
          if (
            event.reason === 'shed' ||
            (policy.kind === 'concurrency-limiter' && event.reason === 'queue-timeout')
          ) {
            counter('ballast_load_shed_total').inc({ policy: name, priority: event.priority ?? 'default' });
          }
          if (policy.kind === 'bulkhead') {
            counter('ballast_bulkhead_rejections_total').inc({ policy: name, reason: event.reason });
          }
          if (spanEvents) addPolicySpanEvent(event);
          break;
        }
        case 'state-change':
          breakerState = event.to;
          counter('ballast_circuit_breaker_transitions_total').inc({
            policy: name,
            from: event.from,
            to: event.to,
          });
          break;
        case 'retry':
          counter('ballast_retry_attempts_total').inc(byPolicy);
          if (spanEvents) addPolicySpanEvent(event);
          break;
        case 'retry-budget-exhausted':
          counter('ballast_retry_budget_exhausted_total').inc(byPolicy);
          if (spanEvents) addPolicySpanEvent(event);
          break;
        case 'rate-limit':
          counter('ballast_rate_limit_decisions_total').inc({
            policy: name,
            decision: event.allowed ? 'allowed' : 'limited',
          });
          break;
        case 'limit-change':
          lastLimit = event.to;
          break;
        case 'timeout':
          counter('ballast_timeouts_total').inc(byPolicy);
          break;
        case 'store-error':
          counter('ballast_policy_store_errors_total').inc({
            policy: name,
            fail_mode: event.failOpen ? 'open' : 'closed',
          });
          break;
        case 'fallback':
          counter('ballast_fallbacks_total').inc(byPolicy);
          break;
        case 'chaos':
          counter('ballast_chaos_injections_total').inc({ policy: name, fault: event.fault });
          break;
        case 'cache':
          counter('ballast_cache_results_total').inc({ policy: name, result: event.result });
          break;
      }
    } catch (error) {
      reportError(error, `recording ${policy.kind} event ${(event as { type?: unknown }).type as string}`);
    }
  };
  subs.push(policy.onEvent(onEvent));
  const subscription = combine([...subs, { dispose: () => void perRegistry.delete(policy) }]);
  perRegistry.set(policy, subscription);
  return subscription;
}

/**
 * {@link observePolicy} for several policies at once; one subscription disposes them all.
 *
 * @example
 * ```ts
 * import { observePolicies } from '@ballast/telemetry';
 * observePolicies(metrics, [breaker, retry, bulkhead]);
 * ```
 */
export function observePolicies(
  metrics: MetricsRegistry,
  policies: Iterable<PolicyLike>,
  options: PolicyMetricsOptions = {},
): Subscription {
  return combine([...policies].map((policy) => observePolicy(metrics, policy, options)));
}

/**
 * Subscribes to the events of a gauge source that is also a policy (a Ballast bulkhead or limiter); the source
 * itself is observed when it carries a `kind`, so observing it again through {@link observePolicy} counts nothing
 * twice.
 */
export function observeEventsOf(
  metrics: MetricsRegistry,
  source: { readonly name: string; readonly kind?: string; readonly onEvent?: PolicyLike['onEvent'] },
  kind: string,
): Subscription | undefined {
  const onEvent = source.onEvent;
  if (typeof onEvent !== 'function') return undefined;
  return observePolicy(
    metrics,
    source.kind === undefined ? { name: source.name, kind, onEvent } : (source as PolicyLike),
  );
}

function observe(histogram: BallastHistogram, labels: Record<string, string>, durationMs: number): void {
  if (Number.isFinite(durationMs) && durationMs >= 0) histogram.observe(labels, durationMs / 1000);
}

function validState(value: unknown): string | undefined {
  return typeof value === 'string' && (BREAKER_STATES as readonly string[]).includes(value)
    ? value
    : undefined;
}
