import { brand, hasBrand } from '@ballast/core';
import { markRejected } from '../common/rejection.js';

const kind = Symbol.for('ballast.BulkheadRejectedError');

/**
 * Thrown when a bulkhead refuses a call. `reason` says why: `'bulkhead-full'` (every slot and every queue place
 * was taken) or `'queue-timeout'` (the call waited in the queue for as long as it was allowed to).
 *
 * @example
 * ```ts
 * import { isBulkheadRejectedError } from '@ballast/resilience';
 * if (isBulkheadRejectedError(error) && error.reason === 'queue-timeout') res.set('Retry-After', '1');
 * ```
 */
export class BulkheadRejectedError extends Error {
  override readonly name = 'BulkheadRejectedError';
  /** `'bulkhead-full'` or `'queue-timeout'`. */
  readonly reason: 'bulkhead-full' | 'queue-timeout';
  /** The bulkhead's concurrency limit when it refused. */
  readonly limit: number;
  /** Calls waiting in its queue when it refused. */
  readonly queued: number;

  constructor(
    policy: string,
    reason: 'bulkhead-full' | 'queue-timeout',
    limit: number,
    queued: number,
    waitedMs = 0,
  ) {
    super(
      reason === 'bulkhead-full'
        ? `Bulkhead "${policy}" is full: ${limit} calls in flight and ${queued} queued`
        : `Bulkhead "${policy}": waited ${Math.round(waitedMs)} ms in the queue without getting a slot (limit ${limit})`,
    );
    this.reason = reason;
    this.limit = limit;
    this.queued = queued;
    brand(this, kind);
    markRejected(this);
  }
}

/** True when `error` is a {@link BulkheadRejectedError} (from any copy of this package). */
export function isBulkheadRejectedError(error: unknown): error is BulkheadRejectedError {
  return hasBrand(error, kind);
}
