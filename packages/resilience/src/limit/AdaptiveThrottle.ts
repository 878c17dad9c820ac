import {
  checkFunction,
  checkNumber,
  EventEmitter,
  invalidOption,
  reportError,
  systemClock,
  type Clock,
  type Event,
} from '@ballast/core';
import type { Policy, PolicyEvent } from '../events.js';
import { ThrottledError } from './ThrottledError.js';

/** Options for {@link AdaptiveThrottle}. */
export interface AdaptiveThrottleOptions {
  /** Policy name used in events. @default 'adaptive-throttle' */
  readonly name?: string;
  /**
   * The multiplier K: the client keeps sending until requests reach K times the accepts. Lower is more aggressive
   * (the SRE book suggests 2; 1.1 sheds nearly everything the backend would reject).
   * @default 2
   */
  readonly k?: number;
  /** Length of the sliding window the counts cover, in milliseconds. @default 120000 (two minutes, as the SRE book) */
  readonly windowMs?: number;
  /** Buckets the window is divided into (it slides one bucket at a time). @default 24 */
  readonly buckets?: number;
  /** Time source for the window. @default systemClock */
  readonly clock?: Clock;
  /** Uniform random numbers in [0, 1), for the rejection draw. @default Math.random */
  readonly random?: () => number;
  /**
   * Which errors mean the backend rejected the request (overload, quota). Other errors count as accepted: the
   * backend took the request, it just failed.
   * @default every error is a rejection
   */
  readonly isRejection?: (error: unknown) => boolean;
}

/**
 * Client-side adaptive throttling, from Google's *Site Reliability Engineering*, chapter 21 ("Handling Overload").
 * Over a sliding window the client counts `requests` (every request the application attempted, including those
 * throttled here) and `accepts` (requests the backend accepted), and rejects each new request locally with
 *
 * ```text
 * P = max(0, (requests - K * accepts) / (requests + 1))
 * ```
 *
 * so an overloaded backend sees its rejected traffic fall to about `accepts * (K - 1)` instead of all of it.
 *
 * @example
 * ```ts
 * import { AdaptiveThrottle } from '@ballast/resilience';
 * const throttle = new AdaptiveThrottle({ name: 'inventory', k: 2 });
 * const stock = await throttle.execute(() => inventory.get(sku));
 * ```
 */
export class AdaptiveThrottle implements Policy {
  readonly name: string;
  readonly kind = 'adaptive-throttle' as const;
  readonly #events = new EventEmitter<PolicyEvent>();
  readonly onEvent: Event<PolicyEvent> = this.#events.event;

  readonly #k: number;
  readonly #bucketMs: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #isRejection: (error: unknown) => boolean;
  readonly #requests: Float64Array;
  readonly #accepts: Float64Array;
  #bucket: number;
  #totalRequests = 0;
  #totalAccepts = 0;

  constructor(options: AdaptiveThrottleOptions = {}) {
    this.name = options.name ?? 'adaptive-throttle';
    if (typeof this.name !== 'string' || this.name === '') {
      throw invalidOption('name', 'a non-empty string', options.name);
    }
    this.#k = checkNumber('k', options.k, 2, { above: 0 });
    const windowMs = checkNumber('windowMs', options.windowMs, 120_000, { above: 0 });
    const buckets = checkNumber('buckets', options.buckets, 24, { integer: true, min: 1, max: 10_000 });
    this.#bucketMs = windowMs / buckets;
    this.#requests = new Float64Array(buckets);
    this.#accepts = new Float64Array(buckets);
    this.#clock = options.clock ?? systemClock;
    this.#random = checkFunction('random', options.random, Math.random);
    this.#isRejection = checkFunction('isRejection', options.isRejection, () => true);
    this.#bucket = Math.floor(this.#clock.now() / this.#bucketMs);
  }

  /** Requests counted in the window (including those throttled locally). */
  get requests(): number {
    this.#roll();
    return this.#totalRequests;
  }

  /** Requests the backend accepted in the window. */
  get accepts(): number {
    this.#roll();
    return this.#totalAccepts;
  }

  /** The probability that the next request is throttled: `max(0, (requests - K * accepts) / (requests + 1))`. */
  get rejectionProbability(): number {
    this.#roll();
    return Math.max(0, (this.#totalRequests - this.#k * this.#totalAccepts) / (this.#totalRequests + 1));
  }

  /**
   * Counts one request and decides whether it may be sent: `true` to send (then call {@link AdaptiveThrottle.accepted}
   * if the backend accepts it), `false` when throttled here (a `rejected` event with reason `throttled` is emitted).
   */
  attempt(): boolean {
    const p = this.rejectionProbability;
    this.#add(this.#requests, 1);
    this.#totalRequests++;
    if (p > 0 && this.#random() < p) {
      if (this.#events.hasListeners) {
        this.#events.emit({ type: 'rejected', policy: this.name, kind: this.kind, reason: 'throttled' });
      }
      return false;
    }
    return true;
  }

  /** Records that the backend accepted a request sent after {@link AdaptiveThrottle.attempt} answered `true`. */
  accepted(): void {
    this.#roll();
    this.#add(this.#accepts, 1);
    this.#totalAccepts++;
  }

  /**
   * Runs `fn` unless throttled (then rejects with a {@link ThrottledError}). A result or an error that
   * `isRejection` does not claim counts as accepted.
   */
  async execute<T>(fn: () => T | Promise<T>): Promise<T> {
    const p = this.rejectionProbability;
    if (!this.attempt()) throw new ThrottledError(p);
    const listening = this.#events.hasListeners;
    const started = listening ? this.#clock.now() : 0;
    try {
      const value = await fn();
      this.accepted();
      if (listening) {
        const durationMs = this.#clock.now() - started;
        this.#events.emit({ type: 'success', policy: this.name, kind: this.kind, durationMs });
      }
      return value;
    } catch (error) {
      let rejected = true;
      try {
        rejected = this.#isRejection(error);
      } catch (predicateError) {
        reportError(predicateError, `${this.name}: isRejection threw`);
      }
      if (!rejected) this.accepted();
      if (listening) {
        const durationMs = this.#clock.now() - started;
        this.#events.emit({
          type: 'failure',
          policy: this.name,
          kind: this.kind,
          durationMs,
          error,
          counted: rejected,
        });
      }
      throw error;
    }
  }

  #add(counts: Float64Array, n: number): void {
    const slot = this.#bucket % counts.length;
    counts[slot] = counts[slot]! + n;
  }

  /** Slides the window to the clock's current bucket, forgetting the buckets that fell out. */
  #roll(): void {
    const bucket = Math.floor(this.#clock.now() / this.#bucketMs);
    if (bucket <= this.#bucket) return;
    const n = this.#requests.length;
    const steps = Math.min(n, bucket - this.#bucket);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.#bucket + i) % n;
      this.#totalRequests -= this.#requests[slot]!;
      this.#totalAccepts -= this.#accepts[slot]!;
      this.#requests[slot] = 0;
      this.#accepts[slot] = 0;
    }
    this.#bucket = bucket;
  }
}
