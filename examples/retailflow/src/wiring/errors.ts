import {
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isChaosError,
  isDeadlineExceededError,
  isTimeoutError,
} from '@ballast/resilience';
import { isInvalidCursorError } from '../data/index.js';
import { HttpProblem } from '../http/problem.js';
import { invalidRequest } from '../http/validation.js';

const unavailable = (slug: string, title: string, detail: string, retryAfter = '1') =>
  new HttpProblem(503, slug, title, detail, { headers: { 'Retry-After': retryAfter } });

const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * True for errors that mean the database is away rather than the request being wrong: PostgreSQL's connection
 * exceptions (SQLSTATE class 08), an administrator or crash shutdown or a server still starting (57P01-57P03), a
 * refused or reset socket, or the client's own "connection terminated". A restart of the database is one.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (
    typeof code === 'string' &&
    (code.startsWith('08') || /^57P0[123]$/.test(code) || UNAVAILABLE_ERRNOS.has(code))
  ) {
    return true;
  }
  return typeof message === 'string' && /^Connection terminated/.test(message);
}

/**
 * True for PostgreSQL's transaction rollbacks that a retry resolves: a deadlock between concurrent transactions
 * (40P01) or a serialization failure (40001). The transaction was rolled back as a whole.
 */
export function isTransactionConflict(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}

/**
 * Maps errors that reach the HTTP layer from the store and the policies to problems a client can act on:
 * a cursor the store did not issue is a 400; a full bulkhead, an open circuit and injected chaos are 503s with
 * `Retry-After`, and so are a database that is away (restarting) and a transaction PostgreSQL rolled back for a
 * deadlock or a serialization failure; a spent request deadline is a 504. Anything else stays a 500.
 */
export function translateError(error: unknown): HttpProblem | undefined {
  if (isInvalidCursorError(error)) {
    return invalidRequest('`cursor` is not a cursor this API issued', [
      { path: 'query/cursor', message: 'is not a valid cursor' },
    ]);
  }
  if (isBulkheadRejectedError(error)) {
    return unavailable('busy', 'Service busy', 'The service is busy; retry shortly');
  }
  if (isBrokenCircuitError(error)) {
    return unavailable('temporarily-unavailable', 'Temporarily unavailable', 'Retry later', '5');
  }
  if (isChaosError(error)) {
    return unavailable('temporarily-unavailable', 'Temporarily unavailable', 'Retry shortly');
  }
  if (isStoreUnavailable(error)) {
    return unavailable(
      'store-unavailable',
      'Store unavailable',
      'The database is unavailable; retry shortly',
      '2',
    );
  }
  if (isTransactionConflict(error)) {
    // PostgreSQL rolled the whole transaction back: nothing happened, and the same request (same Idempotency-Key)
    // may simply be sent again, as PostgreSQL's documentation asks of clients of such transactions.
    return unavailable(
      'conflict',
      'Conflict with a concurrent request',
      'Retry shortly with the same request',
    );
  }
  if (isDeadlineExceededError(error) || isTimeoutError(error)) {
    return new HttpProblem(504, 'deadline-exceeded', 'Deadline exceeded', 'The request ran out of time');
  }
  return undefined;
}
