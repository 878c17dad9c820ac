// The policy event contract lives in `@ballast/core` (types only), so `@ballast/telemetry` reads it without
// depending on this package; it is re-exported here whole.
export type {
  BreakerState,
  BulkheadGauges,
  CacheEvent,
  ChaosEvent,
  ConcurrencyLimiterGauges,
  FailureEvent,
  FallbackEvent,
  LimitChangeEvent,
  Policy,
  PolicyEvent,
  PolicyKind,
  Priority,
  RateLimitEvent,
  RejectedEvent,
  RejectionReason,
  RetryBudgetExhaustedEvent,
  RetryEvent,
  StateChangeEvent,
  StoreErrorEvent,
  SuccessEvent,
  TimeoutEvent,
} from '@ballast/core';

// Composition: pipelines, the call context and the refusal guard shared by every policy.
export type { CallContext, ExecuteOptions, Operation } from './common/CallContext.js';
export { isRejectedError } from './common/rejection.js';
export type { ExtraResult, PipelineOptions, PipelinePolicy } from './Pipeline.js';
export { Pipeline, pipeline } from './Pipeline.js';

// retry/: retries with backoff, retry budgets and Retry-After.
export type { Backoff } from './retry/Backoff.js';
export type { ExponentialBackoffOptions, Jitter } from './retry/ExponentialBackoff.js';
export { ExponentialBackoff } from './retry/ExponentialBackoff.js';
export { RetryableError, isRetryableError } from './retry/RetryableError.js';
export type { RetryBudgetOptions } from './retry/RetryBudget.js';
export { RetryBudget } from './retry/RetryBudget.js';
export { parseRetryAfter, retryAfterMs } from './retry/retryAfter.js';
export type { RetryOptions } from './retry/RetryPolicy.js';
export { RetryPolicy } from './retry/RetryPolicy.js';

// circuit-breaker/: the policy, its breakers (consecutive, count and time windows) and presets.
export type { Breaker, BreakerSnapshot, RateThresholds } from './circuit-breaker/Breaker.js';
export type { BreakerMachineSnapshot } from './circuit-breaker/BreakerMachine.js';
export type { ConsecutiveBreakerOptions } from './circuit-breaker/ConsecutiveBreaker.js';
export { ConsecutiveBreaker } from './circuit-breaker/ConsecutiveBreaker.js';
export type { CountWindowBreakerOptions } from './circuit-breaker/CountWindowBreaker.js';
export { CountWindowBreaker } from './circuit-breaker/CountWindowBreaker.js';
export type { PresetOptions } from './circuit-breaker/presets.js';
export { databaseFailure, presets } from './circuit-breaker/presets.js';
export type { TimeWindowBreakerOptions } from './circuit-breaker/TimeWindowBreaker.js';
export { TimeWindowBreaker } from './circuit-breaker/TimeWindowBreaker.js';
export type {
  CircuitBreakerOptions,
  CircuitBreakerSnapshot,
} from './circuit-breaker/CircuitBreakerPolicy.js';
export { CircuitBreakerPolicy, httpFailure } from './circuit-breaker/CircuitBreakerPolicy.js';
export { BrokenCircuitError, isBrokenCircuitError } from './circuit-breaker/BrokenCircuitError.js';

// bulkhead/: a concurrency cap with a bounded queue.
export type { BulkheadOptions } from './bulkhead/BulkheadPolicy.js';
export { BulkheadPolicy } from './bulkhead/BulkheadPolicy.js';
export { BulkheadRejectedError, isBulkheadRejectedError } from './bulkhead/BulkheadRejectedError.js';

// timeout/: per-call timeouts.
export { TimeoutError, isTimeoutError } from './timeout/TimeoutError.js';
export type { TimeoutOptions, TimeoutStrategy } from './timeout/TimeoutPolicy.js';
export { TimeoutPolicy } from './timeout/TimeoutPolicy.js';

// deadline/: end-to-end deadlines, their ambient context and the propagation header.
export { currentDeadline, runWithDeadline } from './deadline/ambient.js';
export { Deadline } from './deadline/Deadline.js';
export type { ReadDeadlineOptions } from './deadline/header.js';
export { DEADLINE_HEADER, readDeadlineHeader, writeDeadlineHeader } from './deadline/header.js';
export { DeadlineExceededError, isDeadlineExceededError } from './deadline/DeadlineExceededError.js';

// fallback/: degraded answers.
export type { FallbackOptions } from './fallback/FallbackPolicy.js';
export { FallbackPolicy, isDegradable } from './fallback/FallbackPolicy.js';

// chaos/: fault injection.
export type { ChaosFault, ChaosOptions } from './chaos/ChaosPolicy.js';
export { ChaosPolicy, chaosEnabledByEnv } from './chaos/ChaosPolicy.js';
export { ChaosError, isChaosError } from './chaos/ChaosError.js';

// shed/: load shedding (adaptive concurrency limits, the CoDel queue, admission signals) and client-side throttling.
export type { LimitAlgorithm, LimitBoundsOptions, LimitSample } from './shed/LimitAlgorithm.js';
export type { AdmissionSignal, EventLoopPressureOptions, EventLoopSample } from './shed/EventLoopPressure.js';
export { EventLoopPressure } from './shed/EventLoopPressure.js';
export type { SaturationSignalOptions } from './shed/SaturationSignal.js';
export { SaturationSignal } from './shed/SaturationSignal.js';
export type { Gradient2Options } from './shed/Gradient2Limit.js';
export { Gradient2Limit } from './shed/Gradient2Limit.js';
export type { AimdOptions } from './shed/AimdLimit.js';
export { AimdLimit } from './shed/AimdLimit.js';
export type { VegasOptions, VegasThreshold } from './shed/VegasLimit.js';
export { VegasLimit } from './shed/VegasLimit.js';
export type {
  ConcurrencyLimiterOptions,
  LimiterPartitions,
  LimiterPermit,
  LimiterQueueOptions,
  PriorityShares,
} from './shed/ConcurrencyLimiter.js';
export { ConcurrencyLimiter } from './shed/ConcurrencyLimiter.js';
export type { LoadShedReason } from './shed/LoadShedError.js';
export { LoadShedError, isLoadShedError } from './shed/LoadShedError.js';
export type { HttpRequestLike, HttpResponseLike, MiddlewareLike, NextFunctionLike } from './shed/http.js';
export type { LoadSheddingMiddlewareOptions } from './shed/loadSheddingMiddleware.js';
export { loadSheddingMiddleware, releaseOnResponse } from './shed/loadSheddingMiddleware.js';
export type { AdaptiveThrottleOptions } from './shed/AdaptiveThrottle.js';
export { AdaptiveThrottle } from './shed/AdaptiveThrottle.js';
export { ThrottledError, isThrottledError } from './shed/ThrottledError.js';

// ratelimit/: GCRA rate limits with memory and Redis stores, headers and middleware.
export type { GcraParams, RateLimitDecision, RateLimitRule } from './ratelimit/RateLimitRule.js';
export { gcraParams } from './ratelimit/RateLimitRule.js';
export type { RateLimitStore } from './ratelimit/RateLimitStore.js';
export type { MemoryRateLimitStoreOptions } from './ratelimit/MemoryRateLimitStore.js';
export { MemoryRateLimitStore } from './ratelimit/MemoryRateLimitStore.js';
export type { RedisRateLimitStoreOptions, RedisScriptClient } from './ratelimit/RedisRateLimitStore.js';
export { RedisRateLimitStore } from './ratelimit/RedisRateLimitStore.js';
export type { ConsumeOptions, RateLimiterOptions } from './ratelimit/RateLimiter.js';
export { RateLimiter } from './ratelimit/RateLimiter.js';
export type { RateLimitHeaderStandard } from './ratelimit/rateLimitHeaders.js';
export { rateLimitHeaders } from './ratelimit/rateLimitHeaders.js';
export type { RateLimitMiddlewareOptions } from './ratelimit/rateLimitMiddleware.js';
export { rateLimitMiddleware } from './ratelimit/rateLimitMiddleware.js';

// cache/: single-flight and a TTL cache with stale-while-revalidate.
export type { SingleFlightOptions } from './cache/SingleFlight.js';
export { SingleFlight } from './cache/SingleFlight.js';
export type { TtlCacheOptions } from './cache/TtlCache.js';
export { TtlCache } from './cache/TtlCache.js';

// Lease locks with fencing tokens (src/lock).
export type { Lease, LeaseStore } from './lock/Lease.js';
export type { LeaseLockOptions } from './lock/LeaseLock.js';
export { LeaseLock } from './lock/LeaseLock.js';
export { FencingGuard } from './lock/FencingGuard.js';
export type { MemoryLeaseStoreOptions } from './lock/MemoryLeaseStore.js';
export { MemoryLeaseStore } from './lock/MemoryLeaseStore.js';
export type { RedisLeaseStoreOptions } from './lock/RedisLeaseStore.js';
export { RedisLeaseStore } from './lock/RedisLeaseStore.js';
export type { PostgresLeaseStoreOptions, SqlQuery } from './lock/PostgresLeaseStore.js';
export { PostgresLeaseStore } from './lock/PostgresLeaseStore.js';
export { StaleTokenError, isStaleTokenError } from './lock/StaleTokenError.js';
