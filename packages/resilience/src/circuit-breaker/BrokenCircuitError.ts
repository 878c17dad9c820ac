import { brand, hasBrand } from '@ballast/core';
import { markRejected } from '../common/rejection.js';

const kind = Symbol.for('ballast.BrokenCircuitError');

/**
 * Thrown when a circuit breaker refuses a call: the circuit is open, isolated by hand, or half-open with every
 * probe slot taken. `reason` says which; `retryAfterMs` says when the breaker will next let a probe through
 * (`undefined` while isolated).
 *
 * @example
 * ```ts
 * import { isBrokenCircuitError } from '@ballast/resilience';
 * try {
 *   await breaker.execute(() => callInventory());
 * } catch (error) {
 *   if (isBrokenCircuitError(error)) return cachedInventory();
 *   throw error;
 * }
 * ```
 */
export class BrokenCircuitError extends Error {
  override readonly name = 'BrokenCircuitError';
  /** Why the call was refused. */
  readonly reason: 'circuit-open' | 'circuit-isolated' | 'half-open-full';
  /** Milliseconds until the breaker admits a probe; `undefined` while isolated. */
  readonly retryAfterMs: number | undefined;

  constructor(
    policy: string,
    reason: 'circuit-open' | 'circuit-isolated' | 'half-open-full',
    retryAfterMs?: number,
  ) {
    super(
      reason === 'circuit-isolated'
        ? `Circuit breaker "${policy}" is isolated: calls are refused until reset()`
        : reason === 'half-open-full'
          ? `Circuit breaker "${policy}" is half-open and every probe slot is taken`
          : `Circuit breaker "${policy}" is open: calls are refused for ${Math.ceil(retryAfterMs ?? 0)} ms more`,
    );
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
    brand(this, kind);
    markRejected(this);
  }
}

/** True when `error` is a {@link BrokenCircuitError} (from any copy of this package). */
export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return hasBrand(error, kind);
}
