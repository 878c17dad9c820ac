import { brand, hasBrand } from '@ballast/core';

const kind = Symbol.for('ballast.TimeoutError');

/**
 * Thrown when a timeout policy's own time limit passed before the call finished. A fresh attempt gets a fresh
 * limit, so the retry policy treats this error as retryable.
 *
 * @example
 * ```ts
 * import { isTimeoutError } from '@ballast/resilience';
 * if (isTimeoutError(error)) console.warn(`gave up after ${error.timeoutMs} ms`);
 * ```
 */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  /** The limit that passed, in milliseconds. */
  readonly timeoutMs: number;
  /** Marks the error as safe to retry (see `isRetryableError`). */
  readonly retryable = true;

  constructor(policy: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`Timeout "${policy}": the call did not finish within ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
    brand(this, kind);
  }
}

/** True when `error` is a {@link TimeoutError} (from any copy of this package). */
export function isTimeoutError(error: unknown): error is TimeoutError {
  return hasBrand(error, kind);
}
