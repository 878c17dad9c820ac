import type { Event } from './events.js';

/**
 * The event contract every Ballast resilience policy follows. It lives in `@ballast/core` (types only, no code) so that
 * `@ballast/telemetry` can subscribe to these events without depending on `@ballast/resilience`, at run time or in its
 * declaration files; `@ballast/resilience` re-exports every name. Nothing here depends on prom-client or the
 * OpenTelemetry SDK.
 */

/** What kind of policy emitted an event (the `kind` of every {@link PolicyEvent}). */
export type PolicyKind =
  | 'circuit-breaker'
  | 'bulkhead'
  | 'timeout'
  | 'retry'
  | 'fallback'
  | 'concurrency-limiter'
  | 'adaptive-throttle'
  | 'rate-limiter'
  | 'single-flight'
  | 'cache'
  | 'chaos'
  | 'pipeline';

/** Request priority classes for load shedding: `sheddable` work is shed first, `critical` work last. */
export type Priority = 'critical' | 'default' | 'sheddable';

/** States of a circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Why a policy refused to run a call. */
export type RejectionReason =
  | 'circuit-open'
  | 'circuit-isolated'
  | 'half-open-full'
  | 'bulkhead-full'
  | 'queue-timeout'
  | 'shed'
  | 'rate-limited'
  | 'throttled'
  | 'deadline-exceeded';

interface Base<K extends PolicyKind = PolicyKind> {
  /** The policy's name, as given in its options (used as the `policy` label). */
  readonly policy: string;
  readonly kind: K;
}

/** A call through the policy completed. `durationMs` is measured with the policy's clock. */
export interface SuccessEvent extends Base {
  readonly type: 'success';
  readonly durationMs: number;
}
/** A call through the policy failed (`error` is what was thrown; typed `unknown`). */
export interface FailureEvent extends Base {
  readonly type: 'failure';
  readonly durationMs: number;
  readonly error: unknown;
  /** True when the failure counts against the policy (e.g. a breaker's failure predicate said so). */
  readonly counted: boolean;
}
/** The policy refused the call before running it. */
export interface RejectedEvent extends Base {
  readonly type: 'rejected';
  readonly reason: RejectionReason;
  /** Priority of the refused call, when the policy knows it. */
  readonly priority?: Priority;
}
/** A circuit breaker changed state. */
export interface StateChangeEvent extends Base<'circuit-breaker'> {
  readonly type: 'state-change';
  readonly from: BreakerState;
  readonly to: BreakerState;
}
/** A retry policy is about to retry after `delayMs`. `attempt` is 1 for the first retry. */
export interface RetryEvent extends Base<'retry'> {
  readonly type: 'retry';
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}
/** A retry was wanted but the shared retry budget had none left. */
export interface RetryBudgetExhaustedEvent extends Base<'retry'> {
  readonly type: 'retry-budget-exhausted';
  readonly error: unknown;
}
/** A timeout or deadline fired. */
export interface TimeoutEvent extends Base<'timeout'> {
  readonly type: 'timeout';
  readonly timeoutMs: number;
}
/** An adaptive limiter changed its concurrency limit. */
export interface LimitChangeEvent extends Base<'concurrency-limiter'> {
  readonly type: 'limit-change';
  readonly from: number;
  readonly to: number;
}
/** A rate limiter decided on one request. */
export interface RateLimitEvent extends Base<'rate-limiter'> {
  readonly type: 'rate-limit';
  readonly key: string;
  readonly allowed: boolean;
  readonly remaining: number;
  readonly retryAfterMs: number;
}
/** A store behind a policy (e.g. Redis) failed; the policy failed open or closed as configured. */
export interface StoreErrorEvent extends Base {
  readonly type: 'store-error';
  readonly error: unknown;
  readonly failOpen: boolean;
}
/** A fallback served a degraded result instead of the error. */
export interface FallbackEvent extends Base<'fallback'> {
  readonly type: 'fallback';
  readonly error: unknown;
}
/** A chaos policy injected a fault. */
export interface ChaosEvent extends Base<'chaos'> {
  readonly type: 'chaos';
  readonly fault: 'latency' | 'error' | 'result';
}
/** A cache or single-flight answered from what it had (`hit`, `stale`, `shared`) or had to run (`miss`). */
export interface CacheEvent extends Base<'cache' | 'single-flight'> {
  readonly type: 'cache';
  readonly result: 'hit' | 'miss' | 'stale' | 'shared';
}

/** Every event a policy can emit, discriminated by `type`. */
export type PolicyEvent =
  | SuccessEvent
  | FailureEvent
  | RejectedEvent
  | StateChangeEvent
  | RetryEvent
  | RetryBudgetExhaustedEvent
  | TimeoutEvent
  | LimitChangeEvent
  | RateLimitEvent
  | StoreErrorEvent
  | FallbackEvent
  | ChaosEvent
  | CacheEvent;

/**
 * What every policy has: a `name`, a `kind`, and one typed event stream. Subscribing costs nothing until a
 * listener is attached: policies check `hasListeners` before building an event or starting a stopwatch.
 *
 * @example
 * ```ts
 * breaker.onEvent((e) => {
 *   if (e.type === 'state-change') console.log(`${e.policy}: ${e.from} -> ${e.to}`);
 * });
 * ```
 */
export interface Policy {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly onEvent: Event<PolicyEvent>;
}

/** Gauges a bulkhead exposes for USE metrics (utilization = inFlight / limit, saturation = queued). */
export interface BulkheadGauges {
  readonly name: string;
  readonly inFlight: number;
  readonly queued: number;
  readonly limit: number;
}

/** Gauges an adaptive concurrency limiter exposes. */
export interface ConcurrencyLimiterGauges {
  readonly name: string;
  readonly inFlight: number;
  readonly limit: number;
  /** In-flight count per priority class. */
  readonly inFlightByPriority: Readonly<Record<Priority, number>>;
}
