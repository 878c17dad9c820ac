import { brand, hasBrand } from '@ballast/core';

const kind = Symbol.for('ballast.StaleTokenError');

/**
 * Thrown by a fenced resource when a write carries a fencing token lower than one it has already seen: the writer's
 * lease ran out (it was paused, partitioned, or its region failed) and another holder took over. The writer must
 * stop and not retry; it no longer holds the lock.
 *
 * @example
 * ```ts
 * import { isStaleTokenError } from '@ballast/resilience';
 * if (isStaleTokenError(error)) relay.stop(); // someone else leads now
 * ```
 */
export class StaleTokenError extends Error {
  override readonly name = 'StaleTokenError';
  /** The resource that refused the write. */
  readonly resource: string;
  /** The token the writer presented. */
  readonly token: number;
  /** The highest token the resource had seen. */
  readonly highest: number;
  /** A stale holder must not retry. */
  readonly retryable = false;

  constructor(resource: string, token: number, highest: number) {
    super(
      `Stale fencing token for "${resource}": got ${token}, but ${highest} has been seen; the lease was lost`,
    );
    this.resource = resource;
    this.token = token;
    this.highest = highest;
    brand(this, kind);
  }
}

/** True when `error` is a {@link StaleTokenError} (from any copy of this package). */
export function isStaleTokenError(error: unknown): error is StaleTokenError {
  return hasBrand(error, kind);
}
