import { checkNumber, invalidOption } from '@ballast/core';
import { type Breaker, type BreakerSnapshot, expectSnapshot } from './Breaker.js';

/** Options for {@link ConsecutiveBreaker}. */
export interface ConsecutiveBreakerOptions {
  /** Consecutive failed (or slow) calls that open the circuit. @default 5 */
  readonly threshold?: number;
}

/**
 * Opens after `threshold` failed calls in a row; any good call starts the count again. A slow call counts as a
 * failed one. The cheapest breaker (one counter), right for low-traffic dependencies where a rate is noisy.
 *
 * @example
 * ```ts
 * import { ConsecutiveBreaker } from '@ballast/resilience';
 * const breaker = new ConsecutiveBreaker({ threshold: 5 });
 * ```
 */
export class ConsecutiveBreaker implements Breaker {
  readonly kind = 'consecutive' as const;
  readonly threshold: number;
  #count = 0;

  constructor(options: ConsecutiveBreakerOptions = {}) {
    this.threshold = checkNumber('threshold', options.threshold, 5, { integer: true, min: 1 });
  }

  record(failed: boolean, slow: boolean): boolean {
    if (failed || slow) return ++this.#count >= this.threshold;
    this.#count = 0;
    return false;
  }

  reset(): void {
    this.#count = 0;
  }

  toJSON(): BreakerSnapshot {
    return { kind: this.kind, count: this.#count };
  }

  hydrate(snapshot: unknown): void {
    const { count } = expectSnapshot(snapshot, this.kind);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw invalidOption('snapshot.count', 'an integer >= 0', count);
    }
    this.#count = count;
  }
}
