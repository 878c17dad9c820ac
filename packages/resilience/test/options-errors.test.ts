import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from '../src/retry/ExponentialBackoff.js';
import { ConsecutiveBreaker } from '../src/circuit-breaker/ConsecutiveBreaker.js';
import { CountWindowBreaker } from '../src/circuit-breaker/CountWindowBreaker.js';
import { TimeWindowBreaker } from '../src/circuit-breaker/TimeWindowBreaker.js';
import { BulkheadPolicy } from '../src/bulkhead/BulkheadPolicy.js';
import { ChaosPolicy } from '../src/chaos/ChaosPolicy.js';
import { CircuitBreakerPolicy } from '../src/circuit-breaker/CircuitBreakerPolicy.js';
import { Deadline } from '../src/deadline/Deadline.js';
import { BrokenCircuitError, isBrokenCircuitError } from '../src/circuit-breaker/BrokenCircuitError.js';
import { BulkheadRejectedError, isBulkheadRejectedError } from '../src/bulkhead/BulkheadRejectedError.js';
import { ChaosError, isChaosError } from '../src/chaos/ChaosError.js';
import { DeadlineExceededError, isDeadlineExceededError } from '../src/deadline/DeadlineExceededError.js';
import { isRejectedError } from '../src/common/rejection.js';
import { isRetryableError, RetryableError } from '../src/retry/RetryableError.js';
import { TimeoutError, isTimeoutError } from '../src/timeout/TimeoutError.js';
import { FallbackPolicy } from '../src/fallback/FallbackPolicy.js';
import { RetryBudget } from '../src/retry/RetryBudget.js';
import { RetryPolicy } from '../src/retry/RetryPolicy.js';
import { TimeoutPolicy } from '../src/timeout/TimeoutPolicy.js';

describe('bad options throw one TypeError template', () => {
  it.each([
    [() => new BulkheadPolicy({ limit: 0 }), 'Expected `limit` to be an integer >= 1, got `0` (number)'],
    [
      () => new BulkheadPolicy({ queueTimeoutMs: -1 }),
      'Expected `queueTimeoutMs` to be a finite number >= 0, got `-1` (number)',
    ],
    [
      () => new TimeoutPolicy({ timeoutMs: 0 }),
      'Expected `timeoutMs` to be a finite number > 0, got `0` (number)',
    ],
    [
      () => new TimeoutPolicy({} as never),
      'Expected `timeoutMs` to be a finite number > 0, got `undefined` (undefined)',
    ],
    [
      () => new TimeoutPolicy({ timeoutMs: 1, strategy: 'eager' as never }),
      "Expected `strategy` to be one of 'cooperative', 'aggressive', got `\"eager\"` (string)",
    ],
    [
      () => new RetryPolicy({ maxAttempts: 0 }),
      'Expected `maxAttempts` to be an integer >= 1 <= 100, got `0` (number)',
    ],
    [
      () => new RetryPolicy({ idempotent: 'yes' as never }),
      'Expected `idempotent` to be a boolean, got `"yes"` (string)',
    ],
    [
      () => new RetryPolicy({ backoff: 5 as never }),
      'Expected `backoff` to be a Backoff (e.g. new ExponentialBackoff()), got `5` (number)',
    ],
    [
      () => new ExponentialBackoff({ baseMs: 100, maxMs: 10 }),
      'Expected `maxMs` to be a number >= baseMs (100), got `10` (number)',
    ],
    [
      () => new ExponentialBackoff({ jitter: 'half' as never }),
      "Expected `jitter` to be one of 'none', 'full', 'equal', 'decorrelated', got `\"half\"` (string)",
    ],
    [
      () => new RetryBudget({ percentCanRetry: -0.1 }),
      'Expected `percentCanRetry` to be a finite number >= 0 <= 1000, got `-0.1` (number)',
    ],
    [
      () => new ConsecutiveBreaker({ threshold: 1.5 }),
      'Expected `threshold` to be an integer >= 1, got `1.5` (number)',
    ],
    [
      () => new CountWindowBreaker({ size: 10, minimumCalls: 11 }),
      'Expected `minimumCalls` to be an integer <= size (10), got `11` (number)',
    ],
    [
      () => new TimeWindowBreaker({ failureRateThreshold: 0 }),
      'Expected `failureRateThreshold` to be a finite number > 0 <= 1, got `0` (number)',
    ],
    [
      () => new CircuitBreakerPolicy({ halfOpenProbes: 2, successThreshold: 3 }),
      'Expected `successThreshold` to be an integer >= 1 <= 2, got `3` (number)',
    ],
    [
      () => new CircuitBreakerPolicy({ isFailure: 'all' as never }),
      'Expected `isFailure` to be a function, got `"all"` (string)',
    ],
    [
      () => new CircuitBreakerPolicy({ breaker: {} as never }),
      'Expected `breaker` to be a Breaker (e.g. new ConsecutiveBreaker()), got `{}` (object)',
    ],
    [
      () => new FallbackPolicy({ fallback: 1 as never }),
      'Expected `fallback` to be a function, got `1` (number)',
    ],
    [
      () => new ChaosPolicy({ fault: { kind: 'boom' } as never }),
      "Expected `fault` to be { kind: 'latency' | 'error' | 'result', ... }, got `{\"kind\":\"boom\"}` (object)",
    ],
    [
      () => new ChaosPolicy({ fault: { kind: 'error' }, rate: 1.5 }),
      'Expected `rate` to be a finite number >= 0 <= 1, got `1.5` (number)',
    ],
    [() => Deadline.after(-1), 'Expected `ms` to be a finite number >= 0, got `-1` (number)'],
  ])('%#: %s', (make, message) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });
});

describe('branded errors', () => {
  it.each([
    [new BrokenCircuitError('p', 'circuit-open', 10), isBrokenCircuitError, true],
    [new BulkheadRejectedError('p', 'bulkhead-full', 1, 0), isBulkheadRejectedError, true],
    [new DeadlineExceededError('p', 0), isDeadlineExceededError, true],
    [new TimeoutError('p', 10), isTimeoutError, false],
    [new ChaosError('p'), isChaosError, false],
  ] as const)('%s has its guard and says whether it is a refusal', (error, guard, rejection) => {
    expect(guard(error)).toBe(true);
    expect(guard(new Error('other'))).toBe(false);
    expect(guard(undefined)).toBe(false);
    expect(isRejectedError(error)).toBe(rejection);
  });

  it('guards hold across copies of the package (brand, not instanceof)', () => {
    const foreign = Object.assign(new Error('from another copy'), {
      [Symbol.for('ballast.BrokenCircuitError')]: true,
    });
    expect(isBrokenCircuitError(foreign)).toBe(true);
  });

  it('retryable marks are structural', () => {
    expect(isRetryableError(new RetryableError('x'))).toBe(true);
    expect(isRetryableError(new TimeoutError('p', 1))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { retryable: true }))).toBe(true);
    expect(isRetryableError(new BrokenCircuitError('p', 'circuit-open', 1))).toBe(false);
  });
});
