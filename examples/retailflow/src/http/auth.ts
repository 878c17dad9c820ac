import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { hashApiKey, type Repository } from '../data/index.js';
import type { ServicePolicies } from '../policies.js';
import { contextOf } from './context.js';
import { HttpProblem } from './problem.js';

/** The bearer token of an `Authorization` header, or `undefined` when there is none or it is malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+([\x21-\x7e]{1,256})\s*$/i.exec(header);
  return match?.[1];
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, {
    headers: { 'WWW-Authenticate': 'Bearer realm="retailflow"' },
  });
}

/**
 * Authenticates a tenant by `Authorization: Bearer <api key>`: the key's SHA-256 is looked up in the store (through
 * a cache, so authentication keeps working on the last known answer while the store is down); keys are never
 * stored or compared in clear. Sets the tenant on the request context; 401 otherwise.
 */
export function tenantAuth(
  repo: Pick<Repository, 'findTenantByApiKeyHash'>,
  cache: ServicePolicies['tenantLookup'],
): RequestHandler {
  return async (req, res, next) => {
    const key = bearerToken(req.get('authorization'));
    if (key === undefined) throw unauthorized('Send the tenant API key as `Authorization: Bearer <key>`');
    const hash = hashApiKey(key);
    const tenant = await cache(hash, () => repo.findTenantByApiKeyHash(hash));
    if (!tenant) throw unauthorized('Unknown API key');
    contextOf(req).tenant = tenant;
    next();
  };
}

/** Protects admin routes with `Authorization: Bearer <admin key>` (constant-time comparison). */
export function adminAuth(adminKey: string): RequestHandler {
  const expected = createHash('sha256').update(adminKey).digest();
  return (req, _res, next) => {
    const key = bearerToken(req.get('authorization'));
    if (key === undefined) throw unauthorized('Send the admin key as `Authorization: Bearer <key>`');
    if (!timingSafeEqual(createHash('sha256').update(key).digest(), expected)) {
      throw unauthorized('Wrong admin key');
    }
    next();
  };
}
