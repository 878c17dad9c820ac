import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { invalidOption, reportError, systemClock, type Clock } from '@ballast/core';
import { AuthError, RevocationUnavailableError, SigningKeysUnavailableError } from './errors.js';
import { TENANT_CLAIM, type Principal } from './principal.js';
import type { RevocationList } from './revocation.js';

/** Signature algorithms RetailFlow accepts by default: asymmetric only (never `none`, never HMAC). */
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
const ALLOWED = new Set<string>([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Options of {@link jwtAuthenticator}. */
export interface JwtAuthenticatorOptions {
  /** The authorization server's issuer (`OIDC_ISSUER`); `iss` must equal it. https, or http on loopback. */
  readonly issuer: string;
  /** RetailFlow's resource identifier (`OIDC_AUDIENCE`); `aud` must contain it. */
  readonly audience: string;
  /** Where the signing keys are published (`OIDC_JWKS_URI`). @default `${issuer}/jwks` */
  readonly jwksUri?: string;
  /** Accepted `alg` values; asymmetric algorithms only. @default {@link DEFAULT_ALGORITHMS} */
  readonly algorithms?: readonly string[];
  /** Allowed clock difference with the issuer for `exp`/`nbf`/`iat`, in seconds (0-300). @default 30 */
  readonly clockToleranceSec?: number;
  /**
   * How long fetched keys are trusted before a refetch, in ms. Shorter than the issuer's publish-before-use lead
   * time, so a new key is known before the first token it signs. @default 600000
   */
  readonly jwksCacheMs?: number;
  /** Shortest time between two JWKS fetches (a token with an unknown `kid` cannot make us hammer the issuer). @default 30000 */
  readonly jwksCooldownMs?: number;
  /** Time for `exp`/`nbf`. @default systemClock */
  readonly clock?: Clock;
  /** The denylist of revoked tokens and families; unset means no revocation check. */
  readonly revocations?: RevocationList;
  /** Receives failures of the key fetch (never thrown into the request: the token is refused). */
  readonly onError?: (error: unknown) => void;
}

/** Validates bearer access tokens into a {@link Principal}. */
export interface JwtAuthenticator {
  /**
   * Throws {@link AuthError} (401) for any token that is not a valid, unrevoked access token for RetailFlow. When
   * the revocation list cannot answer, a `highRisk` request fails closed (the list's error is thrown, for a 503)
   * and any other request is let through on the token's own checks (short-lived tokens bound the exposure).
   */
  authenticate(token: string, request?: { readonly highRisk?: boolean }): Promise<Principal>;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

function checkUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidOption(name, 'an https URL (http only on loopback)', value);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw invalidOption(name, 'an https URL (http only on loopback)', value);
  }
  return url;
}

const ID = /^[\w.:@|-]{1,256}$/;
const TENANT = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function principalOf(payload: JWTPayload): Principal {
  const sub = payload.sub;
  if (typeof sub !== 'string' || !ID.test(sub))
    throw new AuthError(401, 'invalid_token', 'bad or missing sub');
  const tenant = payload[TENANT_CLAIM];
  if (tenant !== undefined && (typeof tenant !== 'string' || !TENANT.test(tenant))) {
    throw new AuthError(401, 'invalid_token', `bad ${TENANT_CLAIM}`);
  }
  const scope = payload.scope;
  if (scope !== undefined && typeof scope !== 'string')
    throw new AuthError(401, 'invalid_token', 'bad scope');
  const clientId = payload.client_id;
  if (clientId !== undefined && (typeof clientId !== 'string' || !ID.test(clientId))) {
    throw new AuthError(401, 'invalid_token', 'bad client_id');
  }
  if (typeof payload.jti !== 'string' || !ID.test(payload.jti)) {
    throw new AuthError(401, 'invalid_token', 'bad or missing jti');
  }
  return {
    tenantId: tenant,
    subject: sub,
    ...(clientId === undefined ? {} : { clientId }),
    scopes: new Set(scope === undefined || scope === '' ? [] : scope.split(' ')),
    via: 'jwt',
    tokenId: payload.jti,
    ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
  };
}

/**
 * RetailFlow as an OAuth 2.0 resource server: validates JWT access tokens (RFC 9068) with `jose` following the
 * JWT BCP (RFC 8725). The signing keys come from the issuer's JWKS, fetched once and cached, refetched when a token
 * names an unknown `kid` (at most once per cooldown) so a key rotation that publishes the new key before using it
 * never fails a request. Checks: `alg` in an asymmetric allow-list (`none` and HMAC are never accepted, so a token
 * "signed" with the public key as an HMAC secret is refused), `typ` `at+jwt` (an ID token is not an access token),
 * `iss`, `aud`, `exp`/`nbf` with a bounded tolerance on the injected clock, `sub` and `jti` present, the tenant
 * claim well-formed, and neither the `jti` nor the family (`gid`) revoked.
 *
 * @example
 * ```ts
 * const jwt = jwtAuthenticator({ issuer: 'https://id.example.com', audience: 'https://api.example.com/retailflow' });
 * const principal = await jwt.authenticate(bearer);
 * ```
 */
export function jwtAuthenticator(options: JwtAuthenticatorOptions): JwtAuthenticator {
  const issuer = checkUrl('issuer', options.issuer).href.replace(/\/$/, '');
  if (typeof options.audience !== 'string' || options.audience === '') {
    throw invalidOption('audience', 'a non-empty string', options.audience);
  }
  const jwksUri = checkUrl('jwksUri', options.jwksUri ?? `${issuer}/jwks`);
  const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)];
  for (const alg of algorithms) {
    if (!ALLOWED.has(alg))
      throw invalidOption('algorithms', `asymmetric JWS algorithms (${[...ALLOWED].join(', ')})`, alg);
  }
  const tolerance = options.clockToleranceSec ?? 30;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 300) {
    throw invalidOption('clockToleranceSec', 'a number of seconds from 0 to 300', tolerance);
  }
  const clock = options.clock ?? systemClock;
  const keys = createRemoteJWKSet(jwksUri, {
    cacheMaxAge: options.jwksCacheMs ?? 600_000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    timeoutDuration: 5_000,
  });
  const onError =
    options.onError ?? ((error: unknown) => reportError(error, 'retailflow: JWKS fetch failed'));

  return {
    async authenticate(token, request = {}) {
      // Three base64url parts and nothing else, before any parsing (a JWE or junk never reaches jose).
      if (!/^[\w-]{1,4096}\.[\w-]{1,16384}\.[\w-]{0,1024}$/.test(token)) {
        throw new AuthError(401, 'invalid_token', 'not a compact JWS');
      }
      // One spelling per token: base64url leaves unused bits in a part's last character, which decoders ignore, so
      // a token would otherwise have up to 16 spellings that verify (each a credential of its own to the failure
      // budget's memory).
      if (!token.split('.').every(canonicalBase64url)) {
        throw new AuthError(401, 'invalid_token', 'not canonical base64url');
      }
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer,
          audience: options.audience,
          algorithms,
          typ: 'at+jwt',
          clockTolerance: tolerance,
          currentDate: new Date(clock.now()),
          requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        }));
      } catch (error) {
        // The key set away: a timeout, an answer that is not a key set, or any other answer than 200 (jose's
        // generic error). Everything else jose throws is about the token.
        const keysAway =
          error instanceof errors.JWKSTimeout ||
          error instanceof errors.JWKSInvalid ||
          (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC');
        if (error instanceof errors.JOSEError && !keysAway) {
          throw new AuthError(401, 'invalid_token', `${error.code}: ${error.message}`, error);
        }
        // The key set could not be fetched: the token cannot be checked, so it is refused (never a 5xx for a
        // client's input); the fetch failure goes to the operator.
        try {
          onError(error);
        } catch (thrown) {
          reportError(thrown, 'retailflow: JWKS error handler threw');
        }
        throw new SigningKeysUnavailableError(error);
      }
      const principal = principalOf(payload);
      if (options.revocations) {
        const gid = typeof payload.gid === 'string' ? payload.gid : undefined;
        let revoked = false;
        try {
          revoked = await options.revocations.isRevoked({ jti: principal.tokenId, gid });
        } catch (error) {
          if (request.highRisk === true) throw new RevocationUnavailableError(error);
          reportError(
            error,
            'retailflow: revocation list unavailable; low-risk request served on the token alone',
          );
        }
        if (revoked) throw new AuthError(401, 'invalid_token', 'token revoked');
      }
      return principal;
    },
  };
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Whether `part` (base64url characters only) is the one encoding of its bytes: no bits set past the last byte. */
function canonicalBase64url(part: string): boolean {
  const rest = part.length % 4;
  if (rest === 1) return false;
  if (rest === 0) return true;
  const last = BASE64URL.indexOf(part.at(-1)!);
  return (last & (rest === 2 ? 0b1111 : 0b11)) === 0;
}
