import { brand, hasBrand } from '@ballast/core';
import { markRejected } from '../common/rejection.js';

const kind = Symbol.for('ballast.DeadlineExceededError');

/**
 * Thrown when the request's deadline (inherited from the caller, e.g. through the `x-request-deadline-ms` header)
 * has passed. Unlike a {@link TimeoutError} it is not retryable: the caller has already given up, so every further
 * attempt is wasted work.
 *
 * @example
 * ```ts
 * import { isDeadlineExceededError } from '@ballast/resilience';
 * if (isDeadlineExceededError(error)) res.status(504).end();
 * ```
 */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  readonly reason = 'deadline-exceeded' as const;
  /** Milliseconds past the deadline when this was detected (0 when detected on time). */
  readonly overrunMs: number;

  constructor(policy: string, overrunMs: number, options?: { cause?: unknown }) {
    super(
      `"${policy}": the request deadline passed${overrunMs > 0 ? ` ${Math.round(overrunMs)} ms ago` : ''}`,
      options,
    );
    this.overrunMs = overrunMs;
    brand(this, kind);
    markRejected(this);
  }
}

/** True when `error` is a {@link DeadlineExceededError} (from any copy of this package). */
export function isDeadlineExceededError(error: unknown): error is DeadlineExceededError {
  return hasBrand(error, kind);
}
