import type { Request, RequestHandler } from 'express';
import { decodeJwt } from 'jose';
import { hashApiKey, type Repository, type Tenant } from '../data/index.js';
import { contextOf } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import type { Authenticator } from '../http/authenticate.js';
import type { ApiKeyMatch } from './api-keys.js';
import {
  AuthError,
  isAuthError,
  isRevocationUnavailableError,
  isSigningKeysUnavailableError,
  RevocationUnavailableError,
} from './errors.js';
import type { JwtAuthenticator } from './jwt.js';
import { actorOf, requiredScope, TENANT_SCOPES, type Principal } from './principal.js';
import type { RevocationList } from './revocation.js';

/** What {@link identityAuth} needs. */
export interface IdentityAuthOptions {
  /** Tenants, for the demo keys in the tenants table and for the tenant a token names. */
  readonly repo: Pick<Repository, 'findTenantByApiKeyHash' | 'getTenant'>;
  /** The tenant lookup cache (answers on the last known value while the store is down). */
  readonly cache: <T>(key: string, load: () => Promise<T>) => Promise<T>;
  /** JWT access tokens from the configured issuer; unset means API keys only (embedded development). */
  readonly jwt?: JwtAuthenticator;
  /** Issued per-tenant API keys (`rfk_...`); unset means only the tenants table's keys. */
  readonly apiKeys?: { verify(secret: string): Promise<ApiKeyMatch | undefined> };
  /** Revoked API keys are listed here too (`jti` = key id), so a revocation reaches every instance at once. */
  readonly revocations?: RevocationList;
}

const principals = new WeakMap<Request, Principal>();

/**
 * The principal authentication established for `req`, or `undefined` before authentication.
 *
 * @example
 * ```ts
 * const actor = actorOf(principalOf(req)!);
 * ```
 */
export function principalOf(req: Request): Principal | undefined {
  return principals.get(req);
}

/**
 * The audit actor of an authenticated request (`jwt:<sub>@<client>`, `api-key:<id>`), or `undefined` when the
 * request was authenticated some other way.
 *
 * @example
 * ```ts
 * await repo.cancelOrder({ tenantId, orderId, actor: auditActor(req) ?? `tenant:${tenantId}` });
 * ```
 */
export function auditActor(req: Request): string | undefined {
  const principal = principals.get(req);
  // The tenants table's own key has no id: the store's default actor (`tenant:<id>`) names it.
  if (!principal || (principal.via === 'api-key' && principal.keyId === undefined)) return undefined;
  return actorOf(principal);
}

/** A bearer token of an `Authorization` header (RFC 6750 §2.1), or `undefined`. */
function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return /^Bearer +([\x21-\x7e]{1,8192}) *$/i.exec(header)?.[1];
}

const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;

/**
 * The problem a refusal becomes: 401 with `WWW-Authenticate: Bearer error="invalid_token"`, or 403 with
 * `error="insufficient_scope"` and the scope needed (RFC 6750 §3). The detail never says which check a forged token
 * failed.
 */
export function authProblem(error: AuthError, scope?: string): HttpProblem {
  const challenge =
    error.code === 'missing_token'
      ? 'Bearer realm="retailflow"'
      : `Bearer realm="retailflow", error="${error.code === 'wrong_tenant' ? 'insufficient_scope' : error.code}"${
          scope ? `, scope="${scope}"` : ''
        }`;
  const headers = { 'WWW-Authenticate': challenge, 'Cache-Control': 'no-store' };
  if (error.status === 401) {
    const detail =
      error.code === 'missing_token'
        ? 'Send an access token or API key as `Authorization: Bearer <token>`'
        : 'The access token or API key is not valid';
    return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, { headers });
  }
  const detail =
    error.code === 'insufficient_scope'
      ? `This operation needs the scope ${scope ?? 'it names'}`
      : 'The credentials are not valid for this tenant';
  return new HttpProblem(403, 'forbidden', 'Forbidden', detail, { headers });
}

/** High-risk requests fail closed when revocation cannot be checked: anything that writes. */
function highRisk(req: Request): boolean {
  return req.method !== 'GET' && req.method !== 'HEAD';
}

/**
 * Authenticates a tenant API request and authorizes it by scope. The credential is `Authorization: Bearer`:
 * a JWT access token (when an issuer is configured; validated by {@link JwtAuthenticator}), an issued API key
 * (`rfk_...`, see `SqlApiKeyStore`), or a tenant key of the tenants table. The tenant always comes from the
 * credential (a token's tenant claim, a key's row), never from the request, so a credential of tenant A can never
 * act on tenant B. Then the route's scope (`ROUTE_SCOPES`) must be granted (API keys hold every tenant scope).
 * Sets the tenant on the request context and the principal ({@link principalOf}); refuses with 401/403 problem
 * bodies; a revocation list that cannot answer refuses writes with a 503.
 *
 * @example
 * ```ts
 * router.post('/orders', identityAuth({ repo, cache, jwt }), handler);
 * ```
 */
/**
 * The principal and tenant a bearer credential proves: a JWT access token (when an issuer is configured), an issued
 * API key (`rfk_...`) or a tenant key of the tenants table. Throws {@link AuthError} for a credential that proves
 * nothing (401) or names no known tenant (403); a revocation list that cannot answer a `highRisk` request throws
 * its own error (a 503).
 */
async function resolveCredential(
  options: IdentityAuthOptions,
  token: string,
  risky: boolean,
): Promise<[Principal, Tenant]> {
  const tenantById = (id: string) => options.cache(`tenant-id:${id}`, () => options.repo.getTenant(id));
  let principal: Principal;
  let tenant: Tenant | undefined;
  if (JWT_SHAPE.test(token)) {
    if (!options.jwt) throw new AuthError(401, 'invalid_token', 'no issuer configured');
    principal = await options.jwt.authenticate(token, { highRisk: risky });
    if (principal.tenantId === undefined) throw new AuthError(403, 'wrong_tenant', 'token names no tenant');
    tenant = await tenantById(principal.tenantId);
  } else {
    [principal, tenant] = await fromApiKey(options, token, risky, tenantById);
  }
  if (!tenant) throw new AuthError(403, 'wrong_tenant', `unknown tenant ${String(principal.tenantId)}`);
  return [principal, tenant];
}

async function fromApiKey(
  options: IdentityAuthOptions,
  token: string,
  risky: boolean,
  tenantById: (id: string) => Promise<Tenant | undefined>,
): Promise<[Principal, Tenant | undefined]> {
  const hash = hashApiKey(token);
  const legacy = await options.cache(hash, () => options.repo.findTenantByApiKeyHash(hash));
  if (legacy) {
    const principal: Principal = {
      tenantId: legacy.id,
      subject: `tenant:${legacy.id}`,
      scopes: new Set(TENANT_SCOPES),
      via: 'api-key',
    };
    return [principal, legacy];
  }
  const keys = options.apiKeys;
  if (!keys) throw new AuthError(401, 'invalid_token', 'unknown API key');
  const match = await options.cache(`api-key:${hash}`, () => keys.verify(token));
  if (!match) throw new AuthError(401, 'invalid_token', 'unknown, expired or revoked API key');
  if (options.revocations) {
    let revoked = false;
    try {
      revoked = await options.revocations.isRevoked({ jti: `key:${match.id}` });
    } catch (error) {
      if (risky) throw new RevocationUnavailableError(error);
    }
    if (revoked) throw new AuthError(401, 'invalid_token', 'revoked API key');
  }
  const principal: Principal = {
    tenantId: match.tenantId,
    subject: `api-key:${match.id}`,
    keyId: match.id,
    scopes: new Set(TENANT_SCOPES),
    via: 'api-key',
  };
  return [principal, await tenantById(match.tenantId)];
}

/**
 * The same credentials as {@link identityAuth}, as the front door's {@link Authenticator}: it runs before a request
 * holds any capacity or has its body read, so a forged or revoked token is refused (and counted against its
 * source) as cheaply as a wrong API key. Scopes are checked later, per route, by {@link identityAuth}; a
 * revocation list that cannot answer a write is left to it too (the front door then hands the request to express).
 *
 * @example
 * ```ts
 * new RequestAuthentication({ authenticators: [identityAuthenticator({ repo, cache, jwt, apiKeys, revocations })], clock });
 * ```
 */
export function identityAuthenticator(options: IdentityAuthOptions): Authenticator {
  return {
    name: 'identity',
    async authenticate(credential, req) {
      const risky = req.method !== 'GET' && req.method !== 'HEAD';
      try {
        const [principal, tenant] = await resolveCredential(options, credential, risky);
        return {
          tenant,
          principal: {
            tenantId: tenant.id,
            subject: actorOf(principal),
            scopes: [...principal.scopes],
            via: principal.via,
          },
        };
      } catch (error) {
        // Refused credentials are not this authenticator's; a token whose issuer's keys could not be fetched is
        // neither accepted nor refused: the error goes up (the front door does not count it or remember it).
        if (isAuthError(error) && !isSigningKeysUnavailableError(error)) return undefined;
        throw error;
      }
    },
    claimedSubject: claimedJwtSubject,
  };
}

/**
 * The issuer and subject a JWT says it was issued by and for, read without verifying it (`undefined` for anything
 * that is not a JWT with both): the failure budget's hint that a token never seen before belongs to a subject
 * that authenticated recently.
 */
export function claimedJwtSubject(credential: string): string | undefined {
  if (credential.split('.').length !== 3) return undefined;
  try {
    const { iss, sub } = decodeJwt(credential);
    return typeof iss === 'string' && typeof sub === 'string' ? `${iss}\n${sub}` : undefined;
  } catch {
    return undefined;
  }
}

export function identityAuth(options: IdentityAuthOptions): RequestHandler {
  async function authenticate(req: Request): Promise<void> {
    const token = bearer(req.get('authorization'));
    if (token === undefined) throw new AuthError(401, 'missing_token', 'no bearer token');
    const [principal, tenant] = await resolveCredential(options, token, highRisk(req));
    const scope = requiredScope(req.method, req.path);
    if (scope === undefined || !principal.scopes.has(scope)) {
      throw new AuthError(403, 'insufficient_scope', `needs ${String(scope)}`);
    }
    principals.set(req, principal);
    contextOf(req).tenant = tenant;
  }

  return (req, _res, next) => {
    authenticate(req).then(
      () => next(),
      (error: unknown) => {
        if (isAuthError(error)) {
          next(
            authProblem(
              error,
              error.code === 'insufficient_scope' ? requiredScope(req.method, req.path) : undefined,
            ),
          );
        } else next(revocationOrStore(error));
      },
    );
  };
}

function revocationOrStore(error: unknown): unknown {
  // A store error keeps its own translation (the repository's 503); a revocation list that cannot answer for a
  // write is a 503 of its own.
  if (!isRevocationUnavailableError(error)) return error;
  return new HttpProblem(
    503,
    'revocation-unavailable',
    'Service unavailable',
    'Credentials cannot be checked right now; retry shortly',
    { headers: { 'Retry-After': '1' }, cause: error },
  );
}
