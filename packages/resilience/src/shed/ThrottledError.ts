import { brand, hasBrand } from '@ballast/core';
import { markRejected } from '../common/rejection.js';

const kind = Symbol.for('ballast.ThrottledError');

/**
 * Thrown when an {@link AdaptiveThrottle} refuses a request locally, without sending it. Branded: test with
 * {@link isThrottledError}. Marked as a refusal with reason `throttled` (`isRejectedError`): fallback policies serve
 * a degraded result for it and retry policies do not retry it.
 *
 * @example
 * ```ts
 * import { isThrottledError } from '@ballast/resilience';
 * try { await throttle.execute(callBackend); } catch (e) { if (isThrottledError(e)) serveCached(); }
 * ```
 */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
  readonly reason = 'throttled' as const;
  constructor(
    /** The rejection probability that was applied. */
    readonly probability: number,
  ) {
    super(`request throttled on the client (rejection probability ${probability.toFixed(3)})`);
    brand(this, kind);
    markRejected(this);
  }
}

/**
 * True when `value` is a {@link ThrottledError} (from any copy of `@ballast/resilience`).
 *
 * @example
 * ```ts
 * import { isThrottledError } from '@ballast/resilience';
 * const stock = await throttle.execute(load).catch((e: unknown) => (isThrottledError(e) ? cached : Promise.reject(e)));
 * ```
 */
export function isThrottledError(value: unknown): value is ThrottledError {
  return hasBrand(value, kind);
}
