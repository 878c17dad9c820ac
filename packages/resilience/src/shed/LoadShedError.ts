import { brand, hasBrand } from '@ballast/core';
import { markRejected } from '../common/rejection.js';
import type { Priority } from '@ballast/core';

const kind = Symbol.for('ballast.LoadShedError');

/**
 * Why a {@link ConcurrencyLimiter} refused a call: `limit` (no room for this priority and no queue), `queue-full`
 * (the queue was full, or a higher-priority call took this call's place in it), `queue-timeout` (the call waited in
 * the queue longer than the CoDel rules allow), `pressure` (the limiter's admission signal, e.g. a saturated event
 * loop, refused this priority), `tenant-limit` (the call's tenant already runs or waits for as many calls of this
 * class as `partitions.tenantLimit` allows: the tenant's own excess, not the service's overload).
 */
export type LoadShedReason = 'limit' | 'queue-full' | 'queue-timeout' | 'pressure' | 'tenant-limit';

/**
 * Thrown (as a rejected promise) when a {@link ConcurrencyLimiter} sheds a call. Branded: test with
 * {@link isLoadShedError}, which holds across copies of the package. It is also marked as a refusal
 * (`isRejectedError`), so a fallback policy serves a degraded result for it and a retry policy does not retry it.
 *
 * @example
 * ```ts
 * import { isLoadShedError } from '@ballast/resilience';
 * try { await limiter.execute(work); } catch (e) { if (isLoadShedError(e)) console.log(e.detail, e.priority); }
 * ```
 */
export class LoadShedError extends Error {
  override readonly name = 'LoadShedError';
  /**
   * The refusal reason shared with the other policies: `shed`, `queue-timeout` for a call dropped from the queue, or
   * `rate-limited` for a tenant over its `tenantLimit` (a refusal of that tenant's excess, which shed-rate metrics and
   * alerts on the service's overload do not count).
   */
  readonly reason: 'shed' | 'queue-timeout' | 'rate-limited';
  /** Why the call was shed, in detail. */
  readonly detail: LoadShedReason;
  /** The priority class the call asked for. */
  readonly priority: Priority;
  /** The concurrency limit at the moment of the decision. */
  readonly limit: number;

  constructor(detail: LoadShedReason, priority: Priority, limit: number) {
    // Shedding is the limiter working, not a bug: under overload it happens thousands of times a second, and a
    // stack trace (where the limiter refused) costs more than the refusal and says nothing. So none is captured.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${priority} call shed (${detail}): the concurrency limit is ${limit}`);
    Error.stackTraceLimit = stackTraceLimit;
    this.detail = detail;
    this.priority = priority;
    this.limit = limit;
    this.reason =
      detail === 'queue-timeout' ? 'queue-timeout' : detail === 'tenant-limit' ? 'rate-limited' : 'shed';
    brand(this, kind);
    markRejected(this);
  }
}

/**
 * True when `value` is a {@link LoadShedError} (from any copy of `@ballast/resilience`).
 *
 * @example
 * ```ts
 * import { isLoadShedError } from '@ballast/resilience';
 * limiter.execute(work, 'sheddable').catch((e: unknown) => (isLoadShedError(e) ? undefined : Promise.reject(e)));
 * ```
 */
export function isLoadShedError(value: unknown): value is LoadShedError {
  return hasBrand(value, kind);
}
