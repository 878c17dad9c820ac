/** The claim of an access token that names the tenant it acts for. */
export const TENANT_CLAIM = 'tenant_id';

/** The scopes RetailFlow's routes require (an API key holds every tenant scope, never `admin`). */
export type RetailFlowScope = 'catalog:read' | 'orders:read' | 'orders:write' | 'tenant:read' | 'admin';

/** Every scope a tenant API key grants. */
export const TENANT_SCOPES: readonly RetailFlowScope[] = [
  'catalog:read',
  'orders:read',
  'orders:write',
  'tenant:read',
];

/**
 * Who made a request, as authentication established it: the tenant it acts for (never taken from the request
 * itself), the subject (a person's id, a machine client's id or an API key's id), the scopes granted, and how.
 * The audit log records `actor` (see {@link actorOf}).
 */
export interface Principal {
  /** The tenant; `undefined` only for an operator principal (admin scope, no tenant). */
  readonly tenantId: string | undefined;
  /** `sub` of a token, or the API key's id. */
  readonly subject: string;
  /** The OAuth client (`client_id` claim) of a token. */
  readonly clientId?: string;
  /** The API key's id, when authenticated by an API key. */
  readonly keyId?: string;
  readonly scopes: ReadonlySet<string>;
  readonly via: 'jwt' | 'api-key' | 'admin-key';
  /** `jti` of the token (for revocation). */
  readonly tokenId?: string;
  /** Seconds since the epoch at which the token expires. */
  readonly expiresAt?: number;
}

/**
 * The audit actor of a principal: `jwt:<sub>@<client>`, `api-key:<key id>` or `admin-key`, so that the audit log
 * names who acted, never just "admin".
 *
 * @example
 * ```ts
 * actorOf({ tenantId: 'acme', subject: 'alice', clientId: 'retailflow-web', scopes: new Set(), via: 'jwt' });
 * // 'jwt:alice@retailflow-web'
 * ```
 */
export function actorOf(principal: Principal): string {
  switch (principal.via) {
    case 'jwt':
      return `jwt:${principal.subject}${principal.clientId === undefined ? '' : `@${principal.clientId}`}`;
    case 'api-key':
      return `api-key:${principal.keyId ?? principal.subject}`;
    case 'admin-key':
      return 'admin-key';
  }
}

interface RouteScope {
  readonly method: string;
  readonly pattern: RegExp;
  readonly scope: RetailFlowScope;
}

/** The scope each tenant API route needs, one row per route (paths below `/api/v1`). */
export const ROUTE_SCOPES: readonly RouteScope[] = [
  { method: 'GET', pattern: /^\/products(\/[^/]+)?\/?$/, scope: 'catalog:read' },
  { method: 'GET', pattern: /^\/orders(\/[^/]+)?\/?$/, scope: 'orders:read' },
  { method: 'POST', pattern: /^\/orders\/?$/, scope: 'orders:write' },
  { method: 'DELETE', pattern: /^\/orders\/[^/]+\/?$/, scope: 'orders:write' },
  { method: 'GET', pattern: /^\/(audit|flags|usage|invoice)\/?$/, scope: 'tenant:read' },
];

/**
 * The scope a request needs, or `undefined` for a route the table does not know (refused: fail closed).
 *
 * @example
 * ```ts
 * requiredScope('DELETE', '/orders/ord_1'); // 'orders:write'
 * ```
 */
export function requiredScope(method: string, path: string): RetailFlowScope | undefined {
  const upper = method.toUpperCase();
  // Express answers HEAD with the GET route: it needs what GET needs.
  const m = upper === 'HEAD' ? 'GET' : upper;
  const p = path.toLowerCase();
  return ROUTE_SCOPES.find((row) => row.method === m && row.pattern.test(p))?.scope;
}
