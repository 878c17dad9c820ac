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
} from './events.js';

// Policies, composition and their errors (circuit breakers, bulkhead, timeouts and deadlines, retry, fallback, chaos).
export type { Backoff } from './backoff/Backoff.js';
export type { ExponentialBackoffOptions, Jitter } from './backoff/ExponentialBackoff.js';
export { ExponentialBackoff } from './backoff/ExponentialBackoff.js';
export type { Breaker, BreakerSnapshot, RateThresholds } from './breaker/Breaker.js';
export type { BreakerMachineSnapshot } from './breaker/BreakerMachine.js';
export type { ConsecutiveBreakerOptions } from './breaker/ConsecutiveBreaker.js';
export { ConsecutiveBreaker } from './breaker/ConsecutiveBreaker.js';
export type { CountWindowBreakerOptions } from './breaker/CountWindowBreaker.js';
export { CountWindowBreaker } from './breaker/CountWindowBreaker.js';
export type { PresetOptions } from './breaker/presets.js';
export { databaseFailure, presets } from './breaker/presets.js';
export type { TimeWindowBreakerOptions } from './breaker/TimeWindowBreaker.js';
export { TimeWindowBreaker } from './breaker/TimeWindowBreaker.js';
export type { BulkheadOptions } from './BulkheadPolicy.js';
export { BulkheadPolicy } from './BulkheadPolicy.js';
export type { ChaosFault, ChaosOptions } from './ChaosPolicy.js';
export { ChaosPolicy, chaosEnabledByEnv } from './ChaosPolicy.js';
export type { CircuitBreakerOptions, CircuitBreakerSnapshot } from './CircuitBreakerPolicy.js';
export { CircuitBreakerPolicy, httpFailure } from './CircuitBreakerPolicy.js';
export type { CallContext, ExecuteOptions, Operation } from './common/CallContext.js';
export { currentDeadline, runWithDeadline } from './deadline/ambient.js';
export { Deadline } from './deadline/Deadline.js';
export type { ReadDeadlineOptions } from './deadline/header.js';
export { DEADLINE_HEADER, readDeadlineHeader, writeDeadlineHeader } from './deadline/header.js';
export { BrokenCircuitError, isBrokenCircuitError } from './errors/BrokenCircuitError.js';
export { BulkheadRejectedError, isBulkheadRejectedError } from './errors/BulkheadRejectedError.js';
export { ChaosError, isChaosError } from './errors/ChaosError.js';
export { DeadlineExceededError, isDeadlineExceededError } from './errors/DeadlineExceededError.js';
export { isRejectedError } from './errors/rejection.js';
export { RetryableError, isRetryableError } from './errors/RetryableError.js';
export { TimeoutError, isTimeoutError } from './errors/TimeoutError.js';
export type { FallbackOptions } from './FallbackPolicy.js';
export { FallbackPolicy, isDegradable } from './FallbackPolicy.js';
export type { ExtraResult, PipelineOptions, PipelinePolicy } from './Pipeline.js';
export { Pipeline, pipeline } from './Pipeline.js';
export type { RetryBudgetOptions } from './retry/RetryBudget.js';
export { RetryBudget } from './retry/RetryBudget.js';
export { parseRetryAfter, retryAfterMs } from './retry/retryAfter.js';
export type { RetryOptions } from './RetryPolicy.js';
export { RetryPolicy } from './RetryPolicy.js';
export type { TimeoutOptions, TimeoutStrategy } from './TimeoutPolicy.js';
export { TimeoutPolicy } from './TimeoutPolicy.js';

// Load shedding, client-side throttling, rate limiting and caching (src/limit, src/ratelimit, src/cache).
export type { LimitAlgorithm, LimitBoundsOptions, LimitSample } from './limit/LimitAlgorithm.js';
export type {
  AdmissionSignal,
  EventLoopPressureOptions,
  EventLoopSample,
} from './limit/EventLoopPressure.js';
export { EventLoopPressure } from './limit/EventLoopPressure.js';
export type { SaturationSignalOptions } from './limit/SaturationSignal.js';
export { SaturationSignal } from './limit/SaturationSignal.js';
export type { Gradient2Options } from './limit/Gradient2Limit.js';
export { Gradient2Limit } from './limit/Gradient2Limit.js';
export type { AimdOptions } from './limit/AimdLimit.js';
export { AimdLimit } from './limit/AimdLimit.js';
export type {
  ConcurrencyLimiterOptions,
  LimiterPermit,
  LimiterQueueOptions,
  PriorityShares,
} from './limit/ConcurrencyLimiter.js';
export { ConcurrencyLimiter } from './limit/ConcurrencyLimiter.js';
export type { LoadShedReason } from './limit/LoadShedError.js';
export { LoadShedError, isLoadShedError } from './limit/LoadShedError.js';
export type { HttpRequestLike, HttpResponseLike, MiddlewareLike, NextFunctionLike } from './limit/http.js';
export type { LoadSheddingMiddlewareOptions } from './limit/loadSheddingMiddleware.js';
export { loadSheddingMiddleware, releaseOnResponse } from './limit/loadSheddingMiddleware.js';
export type { AdaptiveThrottleOptions } from './limit/AdaptiveThrottle.js';
export { AdaptiveThrottle } from './limit/AdaptiveThrottle.js';
export { ThrottledError, isThrottledError } from './limit/ThrottledError.js';
export type { GcraParams, RateLimitDecision, RateLimitRule } from './ratelimit/RateLimitRule.js';
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
export type { SingleFlightOptions } from './cache/SingleFlight.js';
export { SingleFlight } from './cache/SingleFlight.js';
export type { TtlCacheOptions } from './cache/TtlCache.js';
export { TtlCache } from './cache/TtlCache.js';
