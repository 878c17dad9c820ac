import { checkNumber, invalidOption } from '@ballast/core';
import { SlidingWindow } from '../common/SlidingWindow.js';
import {
  type Breaker,
  type BreakerSnapshot,
  type RateThresholds,
  crosses,
  expectSnapshot,
} from './Breaker.js';

/** Options for {@link TimeWindowBreaker}. */
export interface TimeWindowBreakerOptions extends RateThresholds {
  /** Length of the sliding window in milliseconds. @default 60000 */
  readonly windowMs?: number;
  /** Buckets the window is divided into; the window slides one bucket at a time. @default 10 */
  readonly buckets?: number;
}

const TOTAL = 0;
const FAILED = 1;
const SLOW = 2;

/**
 * Opens when, among the calls of the last `windowMs` (sliding in `buckets` steps), the failure rate or slow-call
 * rate reaches its threshold and at least `minimumCalls` calls were seen. Right for high-traffic dependencies:
 * the decision follows the recent rate, whatever the call volume.
 *
 * @example
 * ```ts
 * import { TimeWindowBreaker } from '@ballast/resilience';
 * const breaker = new TimeWindowBreaker({ windowMs: 10_000, failureRateThreshold: 0.5, minimumCalls: 20 });
 * ```
 */
export class TimeWindowBreaker implements Breaker {
  readonly kind = 'time-window' as const;
  readonly windowMs: number;
  readonly buckets: number;
  readonly failureRateThreshold: number;
  readonly slowCallRateThreshold: number;
  readonly minimumCalls: number;
  readonly #window: SlidingWindow;

  constructor(options: TimeWindowBreakerOptions = {}) {
    this.windowMs = checkNumber('windowMs', options.windowMs, 60_000, { above: 0 });
    this.buckets = checkNumber('buckets', options.buckets, 10, { integer: true, min: 1, max: 10_000 });
    this.failureRateThreshold = checkNumber('failureRateThreshold', options.failureRateThreshold, 0.5, {
      above: 0,
      max: 1,
    });
    this.slowCallRateThreshold = checkNumber('slowCallRateThreshold', options.slowCallRateThreshold, 1, {
      above: 0,
      max: 1,
    });
    this.minimumCalls = checkNumber('minimumCalls', options.minimumCalls, 20, { integer: true, min: 1 });
    this.#window = new SlidingWindow(this.windowMs, this.buckets, 3);
  }

  /** Calls, failed calls and slow calls in the window that ends at `now`. */
  counts(now: number): { readonly total: number; readonly failures: number; readonly slow: number } {
    const w = this.#window;
    return { total: w.sum(now, TOTAL), failures: w.lastSum(FAILED), slow: w.lastSum(SLOW) };
  }

  record(failed: boolean, slow: boolean, now: number): boolean {
    const w = this.#window;
    w.add(now, TOTAL);
    if (failed) w.add(now, FAILED);
    if (slow) w.add(now, SLOW);
    return crosses(
      w.lastSum(TOTAL),
      w.lastSum(FAILED),
      w.lastSum(SLOW),
      this.minimumCalls,
      this.failureRateThreshold,
      this.slowCallRateThreshold,
    );
  }

  reset(): void {
    this.#window.clear();
  }

  toJSON(): BreakerSnapshot {
    return { kind: this.kind, buckets: this.#window.toJSON() };
  }

  hydrate(snapshot: unknown): void {
    const { buckets } = expectSnapshot(snapshot, this.kind);
    const ok =
      Array.isArray(buckets) &&
      buckets.every(
        (b) =>
          Array.isArray(b) && b.length === 4 && b.every((x) => typeof x === 'number' && Number.isFinite(x)),
      );
    if (!ok) throw invalidOption('snapshot.buckets', 'an array of [startMs, total, failures, slow]', buckets);
    this.#window.load(buckets as number[][]);
  }
}
