import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { bearerToken, sourceOf, type AuthFailure, type RequestAuthentication } from './authenticate.js';
import { contextOf } from './context.js';
import { HttpProblem } from './problem.js';

export { bearerToken } from './authenticate.js';

// RFC 6750: a request without a credential gets the bare challenge; a credential that proves nothing gets
// `error="invalid_token"`, so a client knows to fetch a new token rather than to add one.
function unauthorized(detail: string, invalidToken: boolean): HttpProblem {
  return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, {
    headers: {
      'WWW-Authenticate': invalidToken
        ? 'Bearer realm="retailflow", error="invalid_token"'
        : 'Bearer realm="retailflow"',
      'Cache-Control': 'no-store',
    },
  });
}

function throttled(retryAfterMs: number): HttpProblem {
  const seconds = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return new HttpProblem(
    429,
    'too-many-failed-attempts',
    'Too many failed attempts',
    'Too many requests failed authentication; retry later',
    {
      headers: { 'Retry-After': seconds },
    },
  );
}

/** The problem for a failed authentication: 401 with `WWW-Authenticate`, or 429 + `Retry-After` when throttled. */
export function authProblem(failure: AuthFailure, retryAfterMs: number): HttpProblem {
  if (failure === 'throttled') return throttled(retryAfterMs);
  return failure === 'missing'
    ? unauthorized('Send an access token or API key as `Authorization: Bearer <token>`', false)
    : unauthorized('The access token or API key is not valid', true);
}

/**
 * Tenant authentication for express routes. The front door authenticates guarded routes before they hold an
 * ingress permit and sets the principal on the request; this middleware then only checks it is there. Without a
 * front door (an app embedded elsewhere) it runs the same {@link RequestAuthentication} itself.
 */
export function tenantAuth(authentication: RequestAuthentication): RequestHandler {
  return async (req, _res, next) => {
    const context = contextOf(req);
    if (context.tenant === undefined) {
      const outcome = await authentication.check(req);
      if (!outcome.ok) throw authProblem(outcome.failure, outcome.retryAfterMs);
      context.tenant = outcome.auth.tenant;
      context.principal = outcome.auth.principal;
    }
    next();
  };
}

/** Who an ops request speaks for: an operator with the given role. */
export interface OpsPrincipal {
  readonly subject: string;
  readonly role: 'observer' | 'admin';
}

/**
 * How the ops listener knows who is asking: the seam where a JWT with an admin scope replaces static tokens.
 * Returns `undefined` for a request it does not accept.
 */
export interface OpsAuthenticator {
  authenticate(req: IncomingMessage): OpsPrincipal | undefined;
}

/** Static bearer secrets, each granting a role; compared in constant time (as SHA-256 digests). */
export function staticTokenAuthenticator(
  tokens: readonly { readonly token: string; readonly principal: OpsPrincipal }[],
): OpsAuthenticator {
  const digests = tokens.map((t) => ({
    digest: createHash('sha256').update(t.token).digest(),
    principal: t.principal,
  }));
  return {
    authenticate(req) {
      const token = bearerToken(req.headers.authorization);
      if (token === undefined) return undefined;
      const digest = createHash('sha256').update(token).digest();
      let found: OpsPrincipal | undefined;
      for (const d of digests) if (timingSafeEqual(digest, d.digest)) found = d.principal;
      return found;
    },
  };
}

/**
 * Requires an ops principal with `role` (an admin may do what an observer may). Wrong credentials are throttled
 * per source and globally (`admin:*`, ten times the per-source budget), so guessing costs an attacker minutes per
 * few dozen tries wherever they come from.
 */
export function opsAuth(
  authenticator: OpsAuthenticator,
  role: OpsPrincipal['role'],
  throttle: Pick<RequestAuthentication, 'mayTry' | 'fail' | 'failScaled'>,
): RequestHandler {
  return (req, _res, next) => {
    const source = `ops:${sourceOf(req)}`;
    const local = throttle.mayTry(source);
    const global = throttle.mayTry('ops:*', 10);
    if (!local.allowed || !global.allowed) throw throttled(Math.max(local.retryAfterMs, global.retryAfterMs));
    const principal = authenticator.authenticate(req);
    if (!principal || (role === 'admin' && principal.role !== 'admin')) {
      throttle.fail(source);
      throttle.failScaled('ops:*', 10);
      const sent = bearerToken(req.headers.authorization) !== undefined;
      throw unauthorized(
        sent
          ? `Wrong ${role === 'admin' ? 'admin key' : 'ops token'}`
          : `Send the ${role === 'admin' ? 'admin key' : 'ops token'} as \`Authorization: Bearer <key>\``,
        sent,
      );
    }
    contextOf(req).operator = principal;
    next();
  };
}
