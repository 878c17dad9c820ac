import { checkNumber, invalidOption } from '@ballast/core';
import {
  type Breaker,
  type BreakerSnapshot,
  type RateThresholds,
  crosses,
  expectSnapshot,
} from './Breaker.js';

/** Options for {@link CountWindowBreaker}. */
export interface CountWindowBreakerOptions extends RateThresholds {
  /** How many of the most recent calls the window holds. @default 100 */
  readonly size?: number;
}

const FAILED = 1;
const SLOW = 2;

/**
 * Opens when, among the last `size` calls, the failure rate or the slow-call rate reaches its threshold (and at
 * least `minimumCalls` calls were seen). Memory is one byte per slot; each call is O(1).
 *
 * @example
 * ```ts
 * import { CountWindowBreaker } from '@ballast/resilience';
 * const breaker = new CountWindowBreaker({ size: 50, failureRateThreshold: 0.5, minimumCalls: 10 });
 * ```
 */
export class CountWindowBreaker implements Breaker {
  readonly kind = 'count-window' as const;
  readonly size: number;
  readonly failureRateThreshold: number;
  readonly slowCallRateThreshold: number;
  readonly minimumCalls: number;
  readonly #slots: Uint8Array;
  #next = 0;
  #total = 0;
  #failures = 0;
  #slow = 0;

  constructor(options: CountWindowBreakerOptions = {}) {
    this.size = checkNumber('size', options.size, 100, { integer: true, min: 1 });
    this.failureRateThreshold = checkNumber('failureRateThreshold', options.failureRateThreshold, 0.5, {
      above: 0,
      max: 1,
    });
    this.slowCallRateThreshold = checkNumber('slowCallRateThreshold', options.slowCallRateThreshold, 1, {
      above: 0,
      max: 1,
    });
    this.minimumCalls = checkNumber('minimumCalls', options.minimumCalls, Math.min(20, this.size), {
      integer: true,
      min: 1,
    });
    if (this.minimumCalls > this.size) {
      throw invalidOption('minimumCalls', `an integer <= size (${this.size})`, this.minimumCalls);
    }
    this.#slots = new Uint8Array(this.size);
  }

  /** Calls in the window, failed ones, slow ones. */
  get counts(): { readonly total: number; readonly failures: number; readonly slow: number } {
    return { total: this.#total, failures: this.#failures, slow: this.#slow };
  }

  record(failed: boolean, slow: boolean): boolean {
    const i = this.#next;
    if (this.#total === this.size) {
      const old = this.#slots[i]!;
      if (old & FAILED) this.#failures--;
      if (old & SLOW) this.#slow--;
    } else {
      this.#total++;
    }
    this.#slots[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.#failures++;
    if (slow) this.#slow++;
    this.#next = i + 1 === this.size ? 0 : i + 1;
    return crosses(
      this.#total,
      this.#failures,
      this.#slow,
      this.minimumCalls,
      this.failureRateThreshold,
      this.slowCallRateThreshold,
    );
  }

  reset(): void {
    this.#slots.fill(0);
    this.#next = 0;
    this.#total = 0;
    this.#failures = 0;
    this.#slow = 0;
  }

  toJSON(): BreakerSnapshot {
    // Oldest first, so a snapshot restores into a window of another size by keeping the most recent calls.
    const calls: number[] = [];
    const start = this.#total === this.size ? this.#next : 0;
    for (let k = 0; k < this.#total; k++) calls.push(this.#slots[(start + k) % this.size]!);
    return { kind: this.kind, calls };
  }

  hydrate(snapshot: unknown): void {
    const { calls } = expectSnapshot(snapshot, this.kind);
    if (!Array.isArray(calls) || calls.some((c) => c !== 0 && c !== 1 && c !== 2 && c !== 3)) {
      throw invalidOption('snapshot.calls', 'an array of 0..3 outcome codes', calls);
    }
    this.reset();
    for (const c of (calls as number[]).slice(-this.size)) this.record((c & FAILED) !== 0, (c & SLOW) !== 0);
  }
}
