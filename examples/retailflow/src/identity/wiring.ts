import { Redis } from 'ioredis';
import type { RequestHandler, Router } from 'express';
import { reportError, type Clock } from '@ballast/core';
import type { Repository, SqlDriver } from '../data/index.js';
import { SqlApiKeyStore } from './api-keys.js';
import { identityAdminRoutes } from './admin-routes.js';
import type { Authenticator } from '../http/authenticate.js';
import { identityAuth, identityAuthenticator } from './authenticate.js';
import { jwtAuthenticator, type JwtAuthenticator } from './jwt.js';
import { InMemoryRevocationList, RedisRevocationList, type RevocationList } from './revocation.js';

/** The identity settings of RetailFlow's configuration (see `RetailFlowConfig`). */
export interface IdentityConfig {
  /** `OIDC_ISSUER`: unset means no access tokens are accepted (API keys only; embedded development). */
  readonly oidcIssuer?: string;
  /** `OIDC_AUDIENCE`: RetailFlow's resource identifier, required with an issuer. */
  readonly oidcAudience?: string;
  /** `OIDC_JWKS_URI`. @default `${oidcIssuer}/jwks` */
  readonly oidcJwksUri?: string;
  /** `REDIS_URL`: revocations are shared through Redis when set, kept in the process otherwise. */
  readonly redisUrl?: string;
  /** The static admin key (development). */
  readonly adminKey?: string;
  /**
   * Whether the static admin key is accepted on `/admin/identity`; outside development only access tokens with the
   * `admin` scope are. @default true
   */
  readonly allowAdminKey?: boolean;
}

/** RetailFlow's identity plane, built once per service. */
export interface Identity {
  /** The same credentials for the front door, which authenticates before any capacity is taken. */
  readonly authenticator: Authenticator;
  /** Authenticates and authorizes a tenant API request (replaces the API-key-only middleware). */
  readonly authenticate: RequestHandler;
  /** `/admin/identity`: revocations and API key lifecycle. */
  readonly adminRoutes: Router;
  readonly revocations: RevocationList;
  readonly apiKeys: SqlApiKeyStore;
  readonly jwt: JwtAuthenticator | undefined;
  close(): Promise<void>;
}

/**
 * Builds the identity plane from configuration: the JWT resource server when `OIDC_ISSUER` is set, the API key
 * store in the service's own database, the revocation list (Redis when `REDIS_URL` is set, so a revocation reaches
 * every instance), the request authenticator and the admin routes.
 *
 * @example
 * ```ts
 * const identity = createIdentity({ oidcIssuer, oidcAudience }, { clock, repo, driver, tenantLookup, namespace });
 * ```
 */
export function createIdentity(
  config: IdentityConfig,
  deps: {
    readonly clock: Clock;
    readonly repo: Pick<Repository, 'findTenantByApiKeyHash' | 'getTenant' | 'appendAudit'>;
    readonly driver: SqlDriver;
    readonly tenantLookup: <T>(key: string, load: () => Promise<T>) => Promise<T>;
    readonly namespace: string;
  },
): Identity {
  let redis: Redis | undefined;
  let revocations: RevocationList;
  if (config.redisUrl) {
    const client = new Redis(config.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    client.on('error', (error: unknown) => reportError(error, 'retailflow: revocation list (Redis)'));
    redis = client;
    revocations = new RedisRevocationList(client, deps.namespace, deps.clock);
  } else {
    revocations = new InMemoryRevocationList(deps.clock);
  }
  let jwt: JwtAuthenticator | undefined;
  if (config.oidcIssuer !== undefined) {
    if (config.oidcAudience === undefined) {
      throw new TypeError('Expected `OIDC_AUDIENCE` to be set when `OIDC_ISSUER` is, got nothing');
    }
    jwt = jwtAuthenticator({
      issuer: config.oidcIssuer,
      audience: config.oidcAudience,
      ...(config.oidcJwksUri === undefined ? {} : { jwksUri: config.oidcJwksUri }),
      clock: deps.clock,
      revocations,
    });
  }
  const apiKeys = new SqlApiKeyStore(deps.driver, { clock: deps.clock });
  const authOptions = {
    repo: deps.repo,
    cache: deps.tenantLookup,
    ...(jwt ? { jwt } : {}),
    apiKeys,
    revocations,
  };
  return {
    authenticator: identityAuthenticator(authOptions),
    authenticate: identityAuth(authOptions),
    adminRoutes: identityAdminRoutes({
      clock: deps.clock,
      repo: deps.repo,
      revocations,
      apiKeys,
      ...(jwt ? { jwt } : {}),
      ...(config.adminKey === undefined || config.allowAdminKey === false
        ? {}
        : { adminKey: config.adminKey }),
    }),
    revocations,
    apiKeys,
    jwt,
    async close() {
      await apiKeys.settled();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
