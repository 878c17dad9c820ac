import { sleep } from '../common/sleep.js';
import { type Clock, checkFunction, checkNumber, invalidOption } from '@ballast/core';
import type { Backoff } from './Backoff.js';
import { ExponentialBackoff } from './ExponentialBackoff.js';
import type { Call } from '../common/CallContext.js';
import { PolicyBase } from '../common/PolicyBase.js';
import { type Gate, type Runner, type Step, admit, leaveGates, toStep } from '../common/compose.js';
import { isRetryableError } from './RetryableError.js';
import type { RetryBudget } from './RetryBudget.js';
import { retryAfterMs } from './retryAfter.js';

/** Options for {@link RetryPolicy}. */
export interface RetryOptions {
  /** Name used in events and metrics. @default 'retry' */
  readonly name?: string;
  /** Attempts in total, the first one included (so 3 means at most 2 retries). Always finite. @default 3 */
  readonly maxAttempts?: number;
  /**
   * Whether the operations this policy runs may safely run twice. Only idempotent operations are retried; a call
   * can override it with `execute(fn, { idempotent })`. @default false
   */
  readonly idempotent?: boolean;
  /** Which errors to retry. @default errors marked `retryable: true` (see `isRetryableError`) */
  readonly shouldRetry?: (error: unknown) => boolean;
  /** Delay before each retry. @default new ExponentialBackoff() (full jitter, 100 ms base, 10 s cap) */
  readonly backoff?: Backoff;
  /** Budget shared by every policy calling the same dependency; no retry happens when it is spent. @default none */
  readonly budget?: RetryBudget;
  /**
   * Honour a server's `Retry-After` (see `retryAfterMs`): wait at least that long, and give up instead when it asks
   * for more than `maxRetryAfterMs`. @default true
   */
  readonly honorRetryAfter?: boolean;
  /** Longest `Retry-After` worth waiting for, in milliseconds. @default 30000 */
  readonly maxRetryAfterMs?: number;
  /** Source of time for delays. @default systemClock */
  readonly clock?: Clock;
  /** Uniform random numbers in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
}

/**
 * Retries failed calls, with backoff, only when it is safe and useful: the operation is idempotent, the error is
 * marked retryable, attempts remain (the default is 3 in total, never unbounded), the call's deadline leaves room
 * for the wait, and the shared {@link RetryBudget} (if any) allows it. A server's `Retry-After` is honoured.
 *
 * @example
 * ```ts
 * import { ExponentialBackoff, RetryBudget, RetryPolicy } from '@ballast/resilience';
 * const retry = new RetryPolicy({
 *   idempotent: true,
 *   maxAttempts: 4,
 *   backoff: new ExponentialBackoff({ baseMs: 50, maxMs: 1_000, jitter: 'decorrelated' }),
 *   budget: new RetryBudget(),
 * });
 * const price = await retry.execute(() => pricing.get(sku));
 * ```
 */
export class RetryPolicy extends PolicyBase {
  readonly kind = 'retry' as const;
  readonly maxAttempts: number;
  readonly idempotent: boolean;
  readonly backoff: Backoff;
  readonly budget: RetryBudget | undefined;
  readonly #shouldRetry: (error: unknown) => boolean;
  readonly #honorRetryAfter: boolean;
  readonly #maxRetryAfterMs: number;
  readonly #random: () => number;

  constructor(options: RetryOptions = {}) {
    super(options.name ?? 'retry', options.clock);
    this.maxAttempts = checkNumber('maxAttempts', options.maxAttempts, 3, {
      integer: true,
      min: 1,
      max: 100,
    });
    if (options.idempotent !== undefined && typeof options.idempotent !== 'boolean') {
      throw invalidOption('idempotent', 'a boolean', options.idempotent);
    }
    this.idempotent = options.idempotent ?? false;
    this.#shouldRetry = checkFunction('shouldRetry', options.shouldRetry, isRetryableError);
    const backoff = options.backoff ?? new ExponentialBackoff();
    if (typeof backoff !== 'object' || backoff === null || typeof backoff.delayMs !== 'function') {
      throw invalidOption('backoff', 'a Backoff (e.g. new ExponentialBackoff())', backoff);
    }
    this.backoff = backoff;
    this.budget = options.budget;
    this.#honorRetryAfter = options.honorRetryAfter ?? true;
    this.#maxRetryAfterMs = checkNumber('maxRetryAfterMs', options.maxRetryAfterMs, 30_000, { min: 0 });
    this.#random = checkFunction('random', options.random, Math.random);
  }

  /** @internal */
  override [toStep](): Step {
    return { wrap: this.#wrap };
  }

  /** The delay before retry number `retry`, or `undefined` when `error` must not be retried. */
  #plan(call: Call, error: unknown, retry: number, previousMs: number): number | undefined {
    if (retry >= this.maxAttempts || !(call.idempotent ?? this.idempotent)) return undefined;
    if (call.userSignal?.aborted || !this.#shouldRetry(error)) return undefined;
    let delay = this.backoff.delayMs(retry, previousMs, this.#random);
    if (this.#honorRetryAfter) {
      const after = retryAfterMs(error, this.clock.now());
      if (after !== undefined) {
        if (after > this.#maxRetryAfterMs) return undefined;
        delay = Math.max(delay, after);
      }
    }
    if (call.deadlineAt !== Infinity && call.deadlineAt - call.clock.now() <= delay) return undefined;
    if (this.budget && !this.budget.tryWithdraw()) {
      if (this.events.hasListeners) {
        this.events.emit({ policy: this.name, kind: 'retry', type: 'retry-budget-exhausted', error });
      }
      return undefined;
    }
    return delay;
  }

  readonly #wrap = (inner: Runner, gates: readonly Gate[]): Runner => {
    const n = gates.length;
    // The gates directly inside (breaker, bulkhead, timeout) are entered and left here, once per attempt, so the
    // whole attempt costs this one async function.
    return async (call, fn) => {
      this.budget?.deposit();
      const start = this.events.hasListeners ? this.clock.now() : 0;
      const tokens = n === 0 ? noTokens : new Array<unknown>(n);
      let previousMs = 0;
      for (let attempt = 0; ; attempt++) {
        call.attempt = attempt;
        let error: unknown;
        let admitted = true;
        if (n !== 0) {
          try {
            const waiting = admit(gates, call, tokens);
            if (waiting) await waiting;
          } catch (refused) {
            error = refused;
            admitted = false;
          }
        }
        if (admitted) {
          try {
            const result = await inner(call, fn);
            if (n !== 0) leaveGates(gates, tokens, n, call, undefined, false);
            if (this.events.hasListeners) {
              this.emitOutcome(this.clock.now() - start, undefined, false);
            }
            return result;
          } catch (thrown) {
            error = n === 0 ? thrown : leaveGates(gates, tokens, n, call, thrown, true);
          }
        }
        const delay = this.#plan(call, error, attempt + 1, previousMs);
        if (delay === undefined) {
          if (this.events.hasListeners) {
            this.emitOutcome(this.clock.now() - start, error, true);
          }
          throw error;
        }
        if (this.events.hasListeners) {
          this.events.emit({
            policy: this.name,
            kind: 'retry',
            type: 'retry',
            attempt: attempt + 1,
            delayMs: delay,
            error,
          });
        }
        previousMs = delay;
        if (delay > 0) await sleep(this.clock, delay, call.userSignal);
      }
    };
  };
}

const noTokens: unknown[] = [];
