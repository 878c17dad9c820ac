import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import type { Repository } from '../data/index.js';
import { HttpProblem } from '../http/problem.js';
import { invalidRequest } from '../http/validation.js';
import type { ApiKeyInfo, SqlApiKeyStore } from './api-keys.js';
import { authProblem } from './authenticate.js';
import { AuthError, isAuthError } from './errors.js';
import type { JwtAuthenticator } from './jwt.js';
import { actorOf, type Principal } from './principal.js';
import type { RevocationList } from './revocation.js';

/** What {@link identityAdminRoutes} needs. */
export interface IdentityAdminOptions {
  readonly clock: Clock;
  readonly repo: Pick<Repository, 'appendAudit' | 'getTenant'>;
  readonly revocations: RevocationList;
  readonly apiKeys: SqlApiKeyStore;
  /** Operators' access tokens (scope `admin`). */
  readonly jwt?: JwtAuthenticator;
  /** The static admin key; `undefined` outside development (only admin-scoped tokens then). */
  readonly adminKey?: string;
  /** Longest access-token lifetime of the issuer, in seconds: how long a family revocation is kept. @default 3600 */
  readonly maxTokenTtlSec?: number;
  /** How long a revoked API key stays on the shared list (the tenant caches' stale horizon), in ms. @default 660000 */
  readonly apiKeyRevocationMs?: number;
}

const principals = new WeakMap<Request, Principal>();
const ID = /^[\w.:@|-]{1,256}$/;
const TENANT = /^[a-z0-9][a-z0-9_-]{0,63}$/;

function adminPrincipal(options: IdentityAdminOptions): RequestHandler {
  const expected =
    options.adminKey === undefined ? undefined : createHash('sha256').update(options.adminKey).digest();
  return (req, _res, next) => {
    const token = /^Bearer +([\x21-\x7e]{1,8192}) *$/i.exec(req.get('authorization') ?? '')?.[1];
    const run = async (): Promise<Principal> => {
      if (token === undefined) throw new AuthError(401, 'missing_token', 'no bearer token');
      if (expected && timingSafeEqual(createHash('sha256').update(token).digest(), expected)) {
        return { tenantId: undefined, subject: 'admin-key', scopes: new Set(['admin']), via: 'admin-key' };
      }
      if (!options.jwt || !token.startsWith('eyJ'))
        throw new AuthError(401, 'invalid_token', 'not an admin credential');
      const principal = await options.jwt.authenticate(token, { highRisk: true });
      if (!principal.scopes.has('admin')) throw new AuthError(403, 'insufficient_scope', 'needs admin');
      return principal;
    };
    run().then(
      (principal) => {
        principals.set(req, principal);
        next();
      },
      (error: unknown) =>
        next(
          isAuthError(error)
            ? authProblem(error, error.code === 'insufficient_scope' ? 'admin' : undefined)
            : error,
        ),
    );
  };
}

function actor(req: Request): string {
  const principal = principals.get(req);
  if (!principal) throw new Error('identity admin route without an admin principal');
  return actorOf(principal);
}

function body(req: Request): Record<string, unknown> {
  const value: unknown = req.body;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRequest('Expected a JSON object body', [{ path: 'body', message: 'must be an object' }]);
  }
  return value as Record<string, unknown>;
}

function present(key: ApiKeyInfo & { secret?: string }): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: key.id,
    tenantId: key.tenantId,
    name: key.name,
    createdAt: iso(key.createdAt),
    createdBy: key.createdBy,
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
    lastUsedAt: iso(key.lastUsedAt),
    replaces: key.replaces,
    ...(key.secret === undefined ? {} : { secret: key.secret }),
  };
}

/**
 * Identity administration (admin key in development, or an access token with scope `admin`), audited with the real
 * actor (`jwt:<sub>@<client>` or `admin-key`):
 * - `POST /revocations` `{ "jti": "..." }` or `{ "gid": "..." }`: refuse one access token, or every token of a
 *   grant (a signed-out session), on every instance sharing the list, until they would have expired anyway.
 * - `GET /tenants/:tenantId/api-keys`: the tenant's keys with their last use (never the secrets).
 * - `POST /tenants/:tenantId/api-keys` `{ "name": "..." }`: issues a key; the secret is in this answer only.
 * - `POST /tenants/:tenantId/api-keys/:keyId/rotate` `{ "overlapSec": 3600 }`: a successor; the old key keeps
 *   working for the overlap.
 * - `DELETE /tenants/:tenantId/api-keys/:keyId`: revokes a key at once (also on the shared revocation list).
 *
 * @example
 * ```ts
 * app.use('/admin/identity', express.json(), identityAdminRoutes({ clock, repo, revocations, apiKeys, jwt }));
 * ```
 */
export function identityAdminRoutes(options: IdentityAdminOptions): Router {
  const router = Router();
  router.use(adminPrincipal(options));
  const ttlMs = (options.maxTokenTtlSec ?? 3600) * 1000;

  router.post('/revocations', async (req, res) => {
    const b = body(req);
    const [kind, id] = typeof b.jti === 'string' ? (['jti', b.jti] as const) : (['gid', b.gid] as const);
    if (typeof id !== 'string' || !ID.test(id)) {
      throw invalidRequest('Name the token (`jti`) or the grant (`gid`) to revoke', [
        { path: 'body/jti', message: 'must be a token id (1-256 characters of [A-Za-z0-9_.:@|-])' },
      ]);
    }
    await options.revocations.revoke({ kind, id, until: options.clock.now() + ttlMs });
    await options.repo.appendAudit({
      tenantId: null,
      actor: actor(req),
      action: 'token.revoke',
      targetType: kind,
      targetId: id,
    });
    res.status(204).end();
  });

  const tenantParam = async (req: Request): Promise<string> => {
    const tenantId = String(req.params.tenantId);
    if (!TENANT.test(tenantId) || !(await options.repo.getTenant(tenantId))) {
      throw new HttpProblem(404, 'not-found', 'Not found', `No tenant ${tenantId.slice(0, 64)}`);
    }
    return tenantId;
  };
  const keyParam = (req: Request): string => {
    const keyId = String(req.params.keyId);
    if (!/^[a-f0-9]{16}$/.test(keyId))
      throw new HttpProblem(404, 'not-found', 'Not found', 'No such API key');
    return keyId;
  };

  router.get('/tenants/:tenantId/api-keys', async (req, res) => {
    const tenantId = await tenantParam(req);
    // Uses recorded so far show in the listing (the writes run beside the requests that made them).
    await options.apiKeys.settled();
    res.set('Cache-Control', 'no-store').json({ items: (await options.apiKeys.list(tenantId)).map(present) });
  });

  router.post('/tenants/:tenantId/api-keys', async (req, res) => {
    const tenantId = await tenantParam(req);
    const name = body(req).name;
    if (typeof name !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(name)) {
      throw invalidRequest('Name the key', [
        { path: 'body/name', message: 'must be 1-64 printable ASCII characters' },
      ]);
    }
    const who = actor(req);
    const issued = await options.apiKeys.issue(tenantId, name, who);
    await options.repo.appendAudit({
      tenantId,
      actor: who,
      action: 'api-key.issue',
      targetType: 'api-key',
      targetId: issued.id,
      details: { name },
    });
    res.status(201).set('Cache-Control', 'no-store').json(present(issued));
  });

  router.post('/tenants/:tenantId/api-keys/:keyId/rotate', async (req, res) => {
    const tenantId = await tenantParam(req);
    const keyId = keyParam(req);
    const overlapSec = body(req).overlapSec ?? 3600;
    if (
      typeof overlapSec !== 'number' ||
      !Number.isInteger(overlapSec) ||
      overlapSec < 0 ||
      overlapSec > 2_592_000
    ) {
      throw invalidRequest('Bad overlap', [
        { path: 'body/overlapSec', message: 'must be an integer from 0 to 2592000' },
      ]);
    }
    const who = actor(req);
    const issued = await options.apiKeys.rotate(tenantId, keyId, overlapSec * 1000, who);
    if (!issued)
      throw new HttpProblem(404, 'not-found', 'Not found', 'No live API key with this id for this tenant');
    await options.repo.appendAudit({
      tenantId,
      actor: who,
      action: 'api-key.rotate',
      targetType: 'api-key',
      targetId: keyId,
      details: { successor: issued.id, overlapSec },
    });
    res.status(201).set('Cache-Control', 'no-store').json(present(issued));
  });

  router.delete('/tenants/:tenantId/api-keys/:keyId', async (req, res) => {
    const tenantId = await tenantParam(req);
    const keyId = keyParam(req);
    if (!(await options.apiKeys.revoke(tenantId, keyId))) {
      throw new HttpProblem(404, 'not-found', 'Not found', 'No live API key with this id for this tenant');
    }
    await options.revocations.revoke({
      kind: 'jti',
      id: `key:${keyId}`,
      until: options.clock.now() + (options.apiKeyRevocationMs ?? 660_000),
    });
    await options.repo.appendAudit({
      tenantId,
      actor: actor(req),
      action: 'api-key.revoke',
      targetType: 'api-key',
      targetId: keyId,
    });
    res.status(204).end();
  });
  return router;
}
