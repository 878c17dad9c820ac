/**
 * An error the retry policy may retry. Any error with `retryable: true` counts (see {@link isRetryableError}), so
 * an HTTP client can mark its own errors without depending on this class; `retryAfterMs` carries a server's
 * `Retry-After` when it sent one.
 *
 * @example
 * ```ts
 * import { RetryableError } from '@ballast/resilience';
 * if (res.status === 503) throw new RetryableError('inventory unavailable', { retryAfterMs: 2_000 });
 * ```
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  readonly retryable = true;
  /** How long the server asked us to wait before retrying, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * True when `error` is marked safe to retry: it carries `retryable: true` (a {@link RetryableError}, a
 * `TimeoutError`, a `ChaosError`, or any error a client marked so).
 *
 * @example
 * ```ts
 * import { isRetryableError } from '@ballast/resilience';
 * isRetryableError(Object.assign(new Error('reset'), { retryable: true })); // true
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === true;
}
