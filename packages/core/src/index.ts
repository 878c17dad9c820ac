export type { Clock, TimerHandle, TimerOptions } from './clock.js';
export { ManualClock, systemClock, flushMicrotasks } from './clock.js';
export { brand, hasBrand } from './errors.js';
export type { ErrorHandler, Event, Listener, Subscription } from './events.js';
export { EventEmitter, reportError, setErrorHandler } from './events.js';
export type { NumberBounds } from './options.js';
export { checkFunction, checkNumber, checkOneOf, invalidOption } from './options.js';
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
} from './policy-events.js';
