import { brand, hasBrand } from '@ballast/core';

const kind = Symbol.for('ballast.ThrottledError');

/**
 * Thrown when an {@link AdaptiveThrottle} refuses a request locally, without sending it. Branded: test with
 * {@link isThrottledError}.
 *
 * @example
 * ```ts
 * import { isThrottledError } from '@ballast/resilience';
 * try { await throttle.execute(callBackend); } catch (e) { if (isThrottledError(e)) serveCached(); }
 * ```
 */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
  constructor(
    /** The rejection probability that was applied. */
    readonly probability: number,
  ) {
    super(`request throttled on the client (rejection probability ${probability.toFixed(3)})`);
    brand(this, kind);
  }
}

/** True when `value` is a {@link ThrottledError} (from any copy of `@ballast/resilience`). */
export function isThrottledError(value: unknown): value is ThrottledError {
  return hasBrand(value, kind);
}
