import { brand, hasBrand } from '@ballast/core';
import type { RejectionReason } from '@ballast/core';

const kind = Symbol.for('ballast.RejectedError');

/**
 * Internal to the package (not exported): the policies' own errors call it in their constructors.
 *
 * Brands `error` as a refusal: a policy declined to run the call at all (open circuit, full bulkhead, shed,
 * rate limited, deadline already spent). Errors so marked carry a `reason` from {@link RejectionReason}; the
 * fallback policy handles them by default and the retry policy never retries them on its own.
 *
 * @example
 * ```ts
 * import { markRejected } from './rejection.js';
 * class ShedError extends Error {
 *   readonly reason = 'shed';
 *   constructor() { super('shed'); markRejected(this); }
 * }
 * ```
 */
export function markRejected(error: Error & { readonly reason: RejectionReason }): void {
  brand(error, kind);
}

/**
 * True when `error` means a policy refused to run the call (an open circuit, a full bulkhead, a
 * shed or rate-limited call, a deadline already spent), as opposed to a call that ran and failed.
 *
 * @example
 * ```ts
 * import { isRejectedError } from '@ballast/resilience';
 * if (isRejectedError(error)) response.status(503).end();
 * ```
 */
export function isRejectedError(error: unknown): error is Error & { readonly reason: RejectionReason } {
  return hasBrand(error, kind);
}
