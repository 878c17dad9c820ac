import { brand, hasBrand } from '@ballast/core';

const kind = Symbol.for('ballast.retailflow.AuthError');

/**
 * Why a request was refused by authentication (401, `invalid_token`) or authorization (403, `insufficient_scope`
 * or `wrong_tenant`). `reason` is for logs and tests; the client gets a problem body that names the error code of
 * RFC 6750 but never which check failed on a forged token.
 */
export class AuthError extends Error {
  readonly status: 401 | 403;
  readonly code: 'invalid_token' | 'insufficient_scope' | 'wrong_tenant' | 'missing_token';
  readonly reason: string;
  constructor(status: 401 | 403, code: AuthError['code'], reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.name = 'AuthError';
    this.status = status;
    this.code = code;
    this.reason = reason;
    brand(this, kind);
  }
}

/**
 * True when `value` is an {@link AuthError}.
 *
 * @example
 * ```ts
 * if (isAuthError(error) && error.status === 403) console.log('valid token, not allowed');
 * ```
 */
export function isAuthError(value: unknown): value is AuthError {
  return hasBrand(value, kind);
}

const unavailable = Symbol.for('ballast.retailflow.RevocationUnavailableError');

/** The revocation list could not answer for a high-risk request (RetailFlow answers 503: fail closed). */
export class RevocationUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the revocation list could not be read', { cause });
    this.name = 'RevocationUnavailableError';
    brand(this, unavailable);
  }
}

/**
 * True when `value` is a {@link RevocationUnavailableError}.
 *
 * @example
 * ```ts
 * if (isRevocationUnavailableError(error)) res.status(503);
 * ```
 */
export function isRevocationUnavailableError(value: unknown): value is RevocationUnavailableError {
  return hasBrand(value, unavailable);
}
