import { checkFunction, checkNumber, reportError, systemClock, type Clock } from '@ballast/core';
import { EventedPolicy, policyName } from '../common/EventedPolicy.js';
import { type Gate, type Step, toStep } from '../common/compose.js';
import { SlidingWindow } from '../common/SlidingWindow.js';
import { ThrottledError } from './ThrottledError.js';

const REQUESTS = 0;
const ACCEPTS = 1;

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
  /**
   * No request is throttled while the window holds fewer requests than this: at low volume a couple of failures
   * would otherwise refuse half of what follows (one failure in an empty window makes P = 1/2), and the refusals,
   * counted as requests, keep P up long after (Envoy's admission control has the same floor, `rps_threshold`).
   * @default 0
   */
  readonly minRequests?: number;
  /**
   * The highest rejection probability: at least `1 - maxRejectionProbability` of requests still reach the backend,
   * so the accepts that bring P down again arrive as soon as it recovers (at 1, a window full of refusals keeps P
   * near 1 until it slides out). Envoy's admission control defaults to 0.8.
   * @default 1
   */
  readonly maxRejectionProbability?: number;
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
 * P = max(0, (requests - K * accepts) / (requests + 1))      // 0 while requests < minRequests
 * P = min(P, maxRejectionProbability)
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
export class AdaptiveThrottle extends EventedPolicy {
  override readonly kind = 'adaptive-throttle' as const;

  readonly #k: number;
  readonly #minRequests: number;
  readonly #maxP: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #isRejection: (error: unknown) => boolean;
  /** Field 0: requests, field 1: accepts. */
  readonly #window: SlidingWindow;

  constructor(options: AdaptiveThrottleOptions = {}) {
    super(policyName(options.name, 'adaptive-throttle'));
    this.#k = checkNumber('k', options.k, 2, { above: 0 });
    this.#minRequests = checkNumber('minRequests', options.minRequests, 0, { min: 0 });
    this.#maxP = checkNumber('maxRejectionProbability', options.maxRejectionProbability, 1, {
      above: 0,
      max: 1,
    });
    const windowMs = checkNumber('windowMs', options.windowMs, 120_000, { above: 0 });
    const buckets = checkNumber('buckets', options.buckets, 24, { integer: true, min: 1, max: 10_000 });
    this.#window = new SlidingWindow(windowMs, buckets, 2);
    this.#clock = options.clock ?? systemClock;
    this.#random = checkFunction('random', options.random, Math.random);
    this.#isRejection = checkFunction('isRejection', options.isRejection, () => true);
  }

  /** Requests counted in the window (including those throttled locally). */
  get requests(): number {
    return this.#window.sum(this.#clock.now(), REQUESTS);
  }

  /** Requests the backend accepted in the window. */
  get accepts(): number {
    return this.#window.sum(this.#clock.now(), ACCEPTS);
  }

  /**
   * The probability that the next request is throttled: `max(0, (requests - K * accepts) / (requests + 1))`, at most
   * `maxRejectionProbability`, and 0 while fewer than `minRequests` requests are in the window.
   */
  get rejectionProbability(): number {
    const now = this.#clock.now();
    const requests = this.#window.sum(now, REQUESTS);
    if (requests < this.#minRequests) return 0;
    const p = (requests - this.#k * this.#window.sum(now, ACCEPTS)) / (requests + 1);
    return Math.min(this.#maxP, Math.max(0, p));
  }

  /**
   * Counts one request and decides whether it may be sent: `true` to send (then call {@link AdaptiveThrottle.accepted}
   * if the backend accepts it), `false` when throttled here (a `rejected` event with reason `throttled` is emitted).
   */
  attempt(): boolean {
    const p = this.rejectionProbability;
    this.#window.add(this.#clock.now(), REQUESTS);
    if (p > 0 && this.#random() < p) {
      if (this.events.hasListeners) {
        this.events.emit({ type: 'rejected', policy: this.name, kind: this.kind, reason: 'throttled' });
      }
      return false;
    }
    return true;
  }

  /** Records that the backend accepted a request sent after {@link AdaptiveThrottle.attempt} answered `true`. */
  accepted(): void {
    this.#window.add(this.#clock.now(), ACCEPTS);
  }

  /**
   * Runs `fn` unless throttled (then rejects with a {@link ThrottledError}). A result or an error that
   * `isRejection` does not claim counts as accepted.
   */
  async execute<T>(fn: () => T | Promise<T>): Promise<T> {
    const started = this.#enter();
    try {
      const value = await fn();
      this.#leave(started, undefined, false);
      return value;
    } catch (error) {
      this.#leave(started, error, true);
      throw error;
    }
  }

  /**
   * How the throttle takes part in a `pipeline`: a gate that throws a {@link ThrottledError} for a throttled call
   * and counts the accepts of the rest. Place it outside the retry policy so that each request counts once.
   * @internal
   */
  [toStep](): Step {
    return { gate: this.#gate };
  }

  readonly #gate: Gate = {
    enter: () => this.#enter(),
    leave: (started, _call, error, failed) => {
      this.#leave(started as number, error, failed);
      return error;
    },
  };

  /** Counts the request; throws when throttled; returns the start time for events (0 when nobody listens). */
  #enter(): number {
    const p = this.rejectionProbability;
    if (!this.attempt()) throw new ThrottledError(p);
    return this.events.hasListeners ? this.#clock.now() : 0;
  }

  #leave(started: number, error: unknown, failed: boolean): void {
    let rejected = failed;
    if (failed) {
      try {
        rejected = this.#isRejection(error);
      } catch (predicateError) {
        reportError(predicateError, `${this.name}: isRejection threw`);
      }
    }
    if (!rejected) this.accepted();
    if (this.events.hasListeners) {
      const durationMs = started === 0 ? 0 : this.#clock.now() - started;
      this.events.emit(
        failed
          ? { type: 'failure', policy: this.name, kind: this.kind, durationMs, error, counted: rejected }
          : { type: 'success', policy: this.name, kind: this.kind, durationMs },
      );
    }
  }
}
