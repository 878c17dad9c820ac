import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, base64url } from 'jose';
import type { DevIdp } from './dev-idp.js';
import { authorizationCodeWithPkce, clientCredentials, refresh } from './oauth-client.js';

/** One forged, stolen or misused credential and the request it is tried on. */
export interface TokenAttack {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly token: string;
  readonly body?: unknown;
  /** Statuses that count as refused (401/403; 404 where the credential is valid but the object is another tenant's). */
  readonly refusedWith: readonly number[];
}

/** What one attack got. */
export interface TokenAttackResult {
  readonly name: string;
  readonly status: number;
  readonly problemBody: boolean;
  /**
   * The attack was refused with an expected status and an `application/problem+json` body (for the control: the
   * valid token was served).
   */
  readonly asExpected: boolean;
}

/** What {@link buildTokenAttacks} needs: a running development IdP and a RetailFlow that trusts it. */
export interface AttackTarget {
  readonly idp: DevIdp;
  readonly serviceUrl: string;
  /** RetailFlow's ops listener, where `/admin/identity` lives. */
  readonly opsUrl: string;
  /** An admin credential of RetailFlow (for the revocation path). */
  readonly adminKey: string;
  /** RetailFlow's clock now, in ms (tokens are minted relative to it). */
  readonly now: () => number;
  /** The redirect URI the public client is registered with. @default 'http://127.0.0.1:8765/callback' */
  readonly redirectUri?: string;
}

const CLIENTS = {
  acme: { id: 'acme-backend', secret: 'acme-backend-dev-secret' },
  reader: { id: 'acme-reader', secret: 'acme-reader-dev-secret' },
  globex: { id: 'globex-backend', secret: 'globex-backend-dev-secret' },
};

/**
 * Builds the token attack corpus against a running RetailFlow: `alg: none`, RS/HS confusion (HS256 with the
 * issuer's public key as the secret), `kid` injection (path, SQL, unknown kid, a key embedded in the header),
 * expired, not yet valid, wrong `iss`, wrong `aud`, an ID token used as an access token, a token for an unknown
 * tenant, another tenant's token on this tenant's order, a revoked token, the access token of a family whose refresh
 * token was replayed, and a token without the needed scope. Also a valid token (`control`), which must be served.
 *
 * @example
 * ```ts
 * const results = await runTokenAttacks(service.url, await buildTokenAttacks({ idp, serviceUrl, opsUrl, adminKey, now }));
 * ```
 */
export async function buildTokenAttacks(target: AttackTarget): Promise<TokenAttack[]> {
  const { idp } = target;
  const sec = Math.floor(target.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: idp.issuer,
    aud: idp.audience,
    sub: 'acme-backend',
    client_id: 'acme-backend',
    tenant_id: 'acme',
    scope: 'catalog:read orders:read orders:write tenant:read',
    jti: randomUUID(),
    iat: sec,
    exp: sec + 300,
    ...extra,
  });
  const full = 'catalog:read orders:read orders:write tenant:read';
  const acme = (await clientCredentials(idp.issuer, CLIENTS.acme, full, idp.audience)).access_token;
  const reader = (
    await clientCredentials(idp.issuer, CLIENTS.reader, 'catalog:read orders:read', idp.audience)
  ).access_token;
  const globex = (await clientCredentials(idp.issuer, CLIENTS.globex, full, idp.audience)).access_token;

  // An acme order, for the cross-tenant attempt.
  const created = await fetch(`${target.serviceUrl}/api/v1/orders`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${acme}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    },
    body: JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 }] }),
  });
  const order = (await created.json()) as { id?: string };
  const orderId = order.id ?? 'ord_unknown';

  // A token revoked through RetailFlow's revocation path.
  const revoked = (await clientCredentials(idp.issuer, CLIENTS.acme, full, idp.audience)).access_token;
  const jti = JSON.parse(Buffer.from(revoked.split('.')[1]!, 'base64url').toString('utf8')) as {
    jti: string;
  };
  const revocation = await fetch(`${target.opsUrl}/admin/identity/revocations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jti: jti.jti }),
  });
  await revocation.body?.cancel();
  if (revocation.status !== 204) throw new Error(`revocation answered ${revocation.status}`);

  // A person's session whose refresh token is replayed: the whole family is revoked.
  const person = await authorizationCodeWithPkce({
    issuer: idp.issuer,
    clientId: idp.publicClientId,
    redirectUri: target.redirectUri ?? 'http://127.0.0.1:8765/callback',
    username: 'alice',
    password: 'alice-dev-password',
    resource: idp.audience,
  });
  const rotated = await refresh(idp.issuer, idp.publicClientId, person.refresh_token!);
  const replay = await refresh(idp.issuer, idp.publicClientId, person.refresh_token!).then(
    () => 'accepted',
    () => 'refused',
  );
  if (replay !== 'refused') throw new Error('the authorization server accepted a replayed refresh token');

  // RS/HS confusion: HS256 keyed with the issuer's public key, as the attacker can fetch it.
  const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
  const publicJwk = jwks.keys[0]!;
  const confused = await new SignJWT(claims())
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: String(publicJwk.kid) })
    .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));

  // The attacker's own key, announced in the header or named by a crafted kid.
  const attacker = await generateKeyPair('ES256', { extractable: true });
  const attackerJwk = await exportJWK(attacker.publicKey);
  const selfSigned = (header: Record<string, unknown>) =>
    new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
      .sign(attacker.privateKey);

  const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(
    JSON.stringify(claims()),
  )}.`;
  const read = { method: 'GET', path: '/api/v1/orders' } as const;
  const write = {
    method: 'POST',
    path: '/api/v1/orders',
    body: { items: [{ productId: 'sku-mug', quantity: 1 }] },
  } as const;
  const r401 = [401];
  return [
    { name: 'control: valid token', ...read, token: acme, refusedWith: [] },
    { name: 'alg none', ...read, token: none, refusedWith: r401 },
    { name: 'alg none on a write', ...write, token: none, refusedWith: r401 },
    {
      name: 'RS/HS confusion (HS256 keyed with the public JWK)',
      ...read,
      token: confused,
      refusedWith: r401,
    },
    {
      name: 'kid path traversal',
      ...read,
      token: await selfSigned({ kid: '../../../../dev/null' }),
      refusedWith: r401,
    },
    {
      name: 'kid SQL injection',
      ...read,
      token: await selfSigned({ kid: "x' OR '1'='1" }),
      refusedWith: r401,
    },
    { name: 'unknown kid', ...read, token: await selfSigned({ kid: 'dev-999' }), refusedWith: r401 },
    {
      name: 'attacker key embedded in the header (jwk)',
      ...read,
      token: await selfSigned({ jwk: attackerJwk, kid: String(publicJwk.kid) }),
      refusedWith: r401,
    },
    {
      name: 'expired (beyond the clock tolerance)',
      ...read,
      token: await idp.mint(claims({ iat: sec - 900, exp: sec - 60 })),
      refusedWith: r401,
    },
    {
      name: 'not yet valid (nbf beyond the clock tolerance)',
      ...read,
      token: await idp.mint(claims({ nbf: sec + 120 })),
      refusedWith: r401,
    },
    {
      name: 'wrong iss',
      ...read,
      token: await idp.mint(claims({ iss: 'https://evil.example' })),
      refusedWith: r401,
    },
    {
      name: 'wrong aud',
      ...read,
      token: await idp.mint(claims({ aud: 'https://other.example/api' })),
      refusedWith: r401,
    },
    {
      name: 'ID token used as an access token',
      ...read,
      token: person.id_token ?? (await idp.mint(claims(), { typ: 'JWT' })),
      refusedWith: r401,
    },
    {
      name: 'token without typ at+jwt',
      ...read,
      token: await idp.mint(claims(), { typ: 'JWT' }),
      refusedWith: r401,
    },
    {
      name: 'token for an unknown tenant',
      ...read,
      token: await idp.mint(claims({ tenant_id: 'initech' })),
      refusedWith: [401, 403],
    },
    {
      name: "another tenant's token on this tenant's order",
      method: 'GET',
      path: `/api/v1/orders/${orderId}`,
      token: globex,
      refusedWith: [404],
    },
    { name: 'revoked token (jti on the shared denylist)', ...write, token: revoked, refusedWith: r401 },
    {
      name: 'access token of a family whose refresh token was replayed',
      ...read,
      token: rotated.access_token,
      refusedWith: r401,
    },
    { name: 'token without the needed scope (orders:write)', ...write, token: reader, refusedWith: [403] },
    {
      // The tenant listener has no admin routes at all (they live on the ops listener): a 404 problem.
      name: 'admin route with a tenant token',
      method: 'POST',
      path: '/admin/identity/revocations',
      token: acme,
      body: { jti: 'x' },
      refusedWith: [403, 404],
    },
  ];
}

/**
 * Sends every attack and records what came back.
 *
 * @example
 * ```ts
 * const refusedAll = (await runTokenAttacks(url, attacks)).every((r) => r.asExpected);
 * ```
 */
export async function runTokenAttacks(
  serviceUrl: string,
  attacks: readonly TokenAttack[],
): Promise<TokenAttackResult[]> {
  const results: TokenAttackResult[] = [];
  for (const attack of attacks) {
    const response = await fetch(`${serviceUrl}${attack.path}`, {
      method: attack.method,
      headers: {
        authorization: `Bearer ${attack.token}`,
        ...(attack.body === undefined
          ? {}
          : { 'content-type': 'application/json', 'idempotency-key': randomUUID() }),
      },
      ...(attack.body === undefined ? {} : { body: JSON.stringify(attack.body) }),
    });
    const problemBody = (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
    await response.body?.cancel();
    const asExpected =
      attack.refusedWith.length === 0
        ? response.status < 300
        : attack.refusedWith.includes(response.status) && problemBody;
    results.push({ name: attack.name, status: response.status, problemBody, asExpected });
  }
  return results;
}
