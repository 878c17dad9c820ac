import {
  checkNumber,
  checkOneOf,
  invalidOption,
  systemClock,
  type Clock,
  type TimerHandle,
} from '@ballast/core';
import { EventedPolicy, policyName } from '../common/EventedPolicy.js';
import { MemoryRateLimitStore } from './MemoryRateLimitStore.js';
import { gcraParams, type GcraParams, type RateLimitDecision, type RateLimitRule } from './RateLimitRule.js';
import type { RateLimitStore } from './RateLimitStore.js';

/** Options for {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Policy name used in events. @default 'rate-limiter' */
  readonly name?: string;
  /** The rule used when {@link RateLimiter.consume} is not given one (per-plan rules override it per call). */
  readonly rule: RateLimitRule;
  /** Where per-key state lives. @default new MemoryRateLimitStore() */
  readonly store?: RateLimitStore;
  /** Time source (passed to the store; the Redis store uses the server's time unless told otherwise). @default systemClock */
  readonly clock?: Clock;
  /**
   * What to answer when the store fails or does not answer within `storeTimeoutMs`: `'open'` allows the request
   * (availability first), `'closed'` denies it (protection first). Either way a `store-error` event is emitted.
   * @default 'open'
   */
  readonly onStoreError?: 'open' | 'closed';
  /** Milliseconds to wait for an asynchronous store before treating it as failed. @default 250 */
  readonly storeTimeoutMs?: number;
  /**
   * How many denied keys to remember in process for an asynchronous store. A denied request never changes a key's
   * GCRA state, so until its retry time every further request of that key (same rule, cost >= 1) is denied here
   * without a round trip: an abusive tenant hammering a limit costs Redis one call per retry interval, not one per
   * request. The answer is exact unless the key is reset in the store behind the limiter's back. 0 turns it off.
   * @default 10000
   */
  readonly maxLocalDenials?: number;
}

/** Per-call overrides for {@link RateLimiter.consume}. */
export interface ConsumeOptions {
  /** The rule for this call (e.g. the tenant's plan). Pass the same object each time: its constants are cached. */
  readonly rule?: RateLimitRule;
  /** How many units this request uses (an integer from 0 to the rule's burst). @default 1 */
  readonly cost?: number;
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown }).then === 'function';
}

interface Denial {
  readonly params: GcraParams;
  readonly retryAt: number;
  readonly tat: number;
}

interface Waiter {
  readonly key: string;
  readonly params: GcraParams;
  readonly deadline: number;
  readonly resolve: (decision: RateLimitDecision) => void;
  done: boolean;
}

class StoreTimeoutError extends Error {
  override readonly name = 'StoreTimeoutError';
}

/**
 * Per-key (per-tenant) rate limiter using GCRA over a pluggable {@link RateLimitStore}: in memory
 * ({@link MemoryRateLimitStore}, bounded) or shared through Redis ({@link RedisRateLimitStore}).
 *
 * GCRA rather than a fixed or sliding window: it smooths traffic at the configured rate while still allowing a
 * burst, needs one number per key (one Redis GET and SET in one script), and never resets all clients at a window
 * edge. Each decision emits `rate-limit`; a denial also emits `rejected` with reason `rate-limited`.
 *
 * @example
 * ```ts
 * import { RateLimiter } from '@ballast/resilience';
 * const limiter = new RateLimiter({ rule: { limit: 100, periodMs: 60_000 } });
 * const decision = await limiter.consume('tenant-42');
 * if (!decision.allowed) console.log(`retry in ${decision.retryAfterMs} ms`);
 * ```
 */
export class RateLimiter extends EventedPolicy {
  override readonly kind = 'rate-limiter' as const;

  readonly #params: GcraParams;
  readonly #store: RateLimitStore;
  readonly #clock: Clock;
  readonly #failOpen: boolean;
  readonly #timeoutMs: number;
  readonly #waiting = new Set<Waiter>();
  readonly #maxDenials: number;
  /** Keys denied by an asynchronous store, until their retry time (insertion order = age, for eviction). */
  readonly #denials = new Map<string, Denial>();
  #sweep: TimerHandle | undefined;

  constructor(options: RateLimiterOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption('options', 'an object with a `rule`', options);
    }
    super(policyName(options.name, 'rate-limiter'));
    this.#params = gcraParams(options.rule, 'rule');
    this.#store = options.store ?? new MemoryRateLimitStore();
    if (typeof this.#store.consume !== 'function') {
      throw invalidOption('store', 'a RateLimitStore (an object with `consume`)', options.store);
    }
    this.#clock = options.clock ?? systemClock;
    this.#failOpen =
      checkOneOf('onStoreError', options.onStoreError, ['open', 'closed'] as const, 'open') === 'open';
    this.#timeoutMs = checkNumber('storeTimeoutMs', options.storeTimeoutMs, 250, { above: 0 });
    this.#maxDenials = checkNumber('maxLocalDenials', options.maxLocalDenials, 10_000, {
      integer: true,
      min: 0,
    });
  }

  /**
   * Decides one request for `key`: counts it when allowed. Never rejects: a store failure answers according to
   * `onStoreError`.
   */
  consume(key: string, options?: ConsumeOptions): Promise<RateLimitDecision> {
    if (typeof key !== 'string') return Promise.reject(invalidOption('key', 'a string', key));
    const params = options?.rule === undefined ? this.#params : gcraParams(options.rule, 'rule');
    const cost = options?.cost ?? 1;
    if (cost !== 1 && !(Number.isInteger(cost) && cost >= 0 && cost <= params.burst)) {
      return Promise.reject(
        invalidOption('cost', `an integer from 0 to the rule's burst (${params.burst})`, cost),
      );
    }
    const now = this.#clock.now();
    if (this.#denials.size > 0 && cost >= 1) {
      const denied = this.#denials.get(key);
      if (denied !== undefined) {
        if (now < denied.retryAt && denied.params === params) {
          const { limit, periodMs } = params;
          const retryAfterMs = denied.retryAt - now;
          const resetAfterMs = denied.tat - now;
          return Promise.resolve(
            this.#decided(key, { allowed: false, remaining: 0, resetAfterMs, retryAfterMs, limit, periodMs }),
          );
        }
        this.#denials.delete(key);
      }
    }
    let answer: RateLimitDecision | Promise<RateLimitDecision>;
    try {
      answer = this.#store.consume(key, params, cost, now);
    } catch (error) {
      return Promise.resolve(this.#storeFailed(key, params, error));
    }
    if (!isThenable(answer)) return Promise.resolve(this.#decided(key, answer));
    return this.#settle(key, params, cost, answer, now);
  }

  /**
   * Waits for an asynchronous store under `storeTimeoutMs`. This is the Redis hot path, so there is no timer per
   * call: waiting calls sit in an insertion-ordered set (which is deadline order) and one timer, armed while any call
   * waits, fails the overdue ones.
   */
  #settle(
    key: string,
    params: GcraParams,
    cost: number,
    pending: Promise<RateLimitDecision>,
    now: number,
  ): Promise<RateLimitDecision> {
    return new Promise<RateLimitDecision>((resolve) => {
      const waiter: Waiter = { key, params, deadline: now + this.#timeoutMs, resolve, done: false };
      this.#waiting.add(waiter);
      if (this.#sweep === undefined) this.#sweep = this.#clock.setTimeout(this.#onSweep, this.#timeoutMs);
      pending.then(
        (decision) => {
          if (waiter.done) return;
          waiter.done = true;
          this.#waiting.delete(waiter);
          if (!decision.allowed && cost === 1 && this.#maxDenials > 0)
            this.#remember(key, params, decision, now);
          resolve(this.#decided(key, decision));
        },
        (error: unknown) => {
          if (waiter.done) return;
          waiter.done = true;
          this.#waiting.delete(waiter);
          resolve(this.#storeFailed(key, params, error));
        },
      );
    });
  }

  /** Remembers a denial until its retry time (measured from before the call: never later than the store's). */
  #remember(key: string, params: GcraParams, decision: RateLimitDecision, now: number): void {
    const denials = this.#denials;
    denials.delete(key);
    if (denials.size >= this.#maxDenials) {
      const oldest = denials.keys().next();
      if (!oldest.done) denials.delete(oldest.value);
    }
    denials.set(key, { params, retryAt: now + decision.retryAfterMs, tat: now + decision.resetAfterMs });
  }

  readonly #onSweep = (): void => {
    this.#sweep = undefined;
    const now = this.#clock.now();
    for (const waiter of this.#waiting) {
      if (waiter.deadline > now) {
        this.#sweep = this.#clock.setTimeout(this.#onSweep, waiter.deadline - now);
        return;
      }
      this.#waiting.delete(waiter);
      waiter.done = true;
      const error = new StoreTimeoutError(`rate-limit store did not answer within ${this.#timeoutMs} ms`);
      waiter.resolve(this.#storeFailed(waiter.key, waiter.params, error));
    }
  };

  #decided(key: string, decision: RateLimitDecision): RateLimitDecision {
    if (this.events.hasListeners) {
      const { allowed, remaining, retryAfterMs } = decision;
      this.events.emit({
        type: 'rate-limit',
        policy: this.name,
        kind: this.kind,
        key,
        allowed,
        remaining,
        retryAfterMs,
      });
      if (!allowed) {
        this.events.emit({ type: 'rejected', policy: this.name, kind: this.kind, reason: 'rate-limited' });
      }
    }
    return decision;
  }

  #storeFailed(key: string, params: GcraParams, error: unknown): RateLimitDecision {
    if (this.events.hasListeners) {
      this.events.emit({
        type: 'store-error',
        policy: this.name,
        kind: this.kind,
        error,
        failOpen: this.#failOpen,
      });
    }
    const { limit, periodMs, emissionMs } = params;
    const decision: RateLimitDecision = this.#failOpen
      ? { allowed: true, remaining: limit, resetAfterMs: 0, retryAfterMs: 0, limit, periodMs }
      : { allowed: false, remaining: 0, resetAfterMs: emissionMs, retryAfterMs: emissionMs, limit, periodMs };
    return this.#decided(key, decision);
  }
}
