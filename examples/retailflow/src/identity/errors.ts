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

const keysUnavailable = Symbol.for('ballast.retailflow.SigningKeysUnavailableError');

/**
 * A token that could not be checked because the issuer's signing keys could not be fetched: refused 401 as any
 * token that cannot be checked (never a 5xx for a client's input), but it says nothing against the token, so the
 * front door neither counts it against its source nor remembers it as unknown.
 */
export class SigningKeysUnavailableError extends AuthError {
  constructor(cause: unknown) {
    super(401, 'invalid_token', 'signing keys unavailable', cause);
    this.name = 'SigningKeysUnavailableError';
    brand(this, keysUnavailable);
  }
}

/**
 * True when `value` is a {@link SigningKeysUnavailableError}.
 *
 * @example
 * ```ts
 * if (isSigningKeysUnavailableError(error)) console.log('the key set is away; try again shortly');
 * ```
 */
export function isSigningKeysUnavailableError(value: unknown): value is SigningKeysUnavailableError {
  return hasBrand(value, keysUnavailable);
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

/**
 * True for errors that say nothing against a credential, only that the service could not finish checking it (its
 * revocation list or the issuer's signing keys could not be read): the front door's failure budget does not count
 * them (`RequestAuthentication`'s `uncounted`).
 *
 * @example
 * ```ts
 * new RequestAuthentication({ authenticators, clock, uncounted: checkUnfinished });
 * ```
 */
export function checkUnfinished(error: unknown): boolean {
  return isRevocationUnavailableError(error) || isSigningKeysUnavailableError(error);
}
