import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { TENANT_CLAIM, type RetailFlowScope } from './principal.js';

/** One machine client of the development authorization server (client credentials grant). */
export interface DevMachineClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The tenant every token of this client acts for; `undefined` for an operator client (admin only). */
  readonly tenantId?: string;
  /** The scopes the client may ask for. */
  readonly scopes: readonly RetailFlowScope[];
}

/** One person who can sign in on the development authorization server. */
export interface DevUser {
  readonly username: string;
  readonly password: string;
  readonly tenantId: string;
}

/** Options of {@link startDevIdp}. */
export interface DevIdpOptions {
  /** Port on loopback; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** The `aud` of every access token: RetailFlow's resource identifier. @default 'https://retailflow.local/api' */
  readonly audience?: string;
  /** Lifetime of an access token in seconds: short, because a JWT cannot be recalled. @default 300 */
  readonly accessTokenTtlSec?: number;
  /** Lifetime of a refresh token in seconds. @default 86400 */
  readonly refreshTokenTtlSec?: number;
  /** Redirect URIs of the public (PKCE) client. @default ['http://127.0.0.1:8765/callback'] */
  readonly redirectUris?: readonly string[];
  /** @default {@link DEV_MACHINE_CLIENTS} */
  readonly machineClients?: readonly DevMachineClient[];
  /** @default {@link DEV_USERS} */
  readonly users?: readonly DevUser[];
  /** Receives the id of every grant the server revokes (a replayed refresh token, a revoked refresh token). */
  readonly onGrantRevoked?: (grantId: string) => void;
}

/** A running development authorization server. */
export interface DevIdp {
  /** The issuer, e.g. `http://127.0.0.1:4000` (what RetailFlow's `OIDC_ISSUER` names). */
  readonly issuer: string;
  /** The audience of its access tokens (what RetailFlow's `OIDC_AUDIENCE` names). */
  readonly audience: string;
  /** The public client's id (authorization code + PKCE, refresh tokens rotated). */
  readonly publicClientId: string;
  /** The key ids in the published JWKS, signing key first. */
  readonly kids: () => readonly string[];
  /**
   * Rotates the signing key in two steps that never fail a request at a resource server: `publish` adds a new key
   * to the JWKS (tokens are still signed with the current one); `activate` signs with the newest key and keeps the
   * previous one published; `retire` drops every key but the signing one (call it once the old tokens expired).
   */
  rotate(step: 'publish' | 'activate' | 'retire'): Promise<readonly string[]>;
  /**
   * Signs arbitrary claims with the current signing key (`typ` `at+jwt`), bypassing every rule of the server: for
   * tests and the proof's attack corpus (an expired token, a wrong audience, a token for an unknown tenant), which
   * need tokens only a key holder could make.
   */
  mint(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/** The demo machine clients, one per demo tenant plus an operator client (development only). */
export const DEV_MACHINE_CLIENTS: readonly DevMachineClient[] = [
  {
    clientId: 'acme-backend',
    clientSecret: 'acme-backend-dev-secret',
    tenantId: 'acme',
    scopes: ['catalog:read', 'orders:read', 'orders:write', 'tenant:read'],
  },
  {
    clientId: 'acme-reader',
    clientSecret: 'acme-reader-dev-secret',
    tenantId: 'acme',
    scopes: ['catalog:read', 'orders:read'],
  },
  {
    clientId: 'globex-backend',
    clientSecret: 'globex-backend-dev-secret',
    tenantId: 'globex',
    scopes: ['catalog:read', 'orders:read', 'orders:write', 'tenant:read'],
  },
  { clientId: 'ops-console', clientSecret: 'ops-console-dev-secret', scopes: ['admin'] },
];

/** The demo people (development only). */
export const DEV_USERS: readonly DevUser[] = [
  { username: 'alice', password: 'alice-dev-password', tenantId: 'acme' },
  { username: 'bob', password: 'bob-dev-password', tenantId: 'globex' },
];

const PERSON_SCOPES: readonly RetailFlowScope[] = [
  'catalog:read',
  'orders:read',
  'orders:write',
  'tenant:read',
];

async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 4096) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

/**
 * Starts a real OAuth 2.0 / OpenID Connect authorization server (`oidc-provider`, OpenID certified) on loopback for
 * development and tests: JWT access tokens (RFC 9068, ES256) for one resource (RetailFlow) carrying the tenant
 * claim, client credentials for machine clients, authorization code with PKCE (S256, required) for people through a
 * minimal JSON sign-in (`POST /interaction/:uid` with `username` and `password`), refresh tokens rotated on every use
 * with reuse detection (a replayed one revokes its grant: every token of the family), token revocation (RFC 7009)
 * and introspection (RFC 7662). State lives in memory; nothing leaves the machine. Never run it in production: the
 * secrets are in this file.
 *
 * @example
 * ```ts
 * const idp = await startDevIdp({ port: 4000 });
 * // OIDC_ISSUER=idp.issuer OIDC_AUDIENCE=idp.audience npm start
 * await idp.close();
 * ```
 */
export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const audience = options.audience ?? 'https://retailflow.local/api';
  const accessTtl = options.accessTokenTtlSec ?? 300;
  const machineClients = options.machineClients ?? DEV_MACHINE_CLIENTS;
  const users = options.users ?? DEV_USERS;
  const redirectUris = options.redirectUris ?? ['http://127.0.0.1:8765/callback'];
  const publicClientId = 'retailflow-web';
  let keySeq = 1;
  let keys: JWK[] = [await signingKey(`dev-${keySeq}`)];

  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const tenantOfClient = new Map(machineClients.map((c) => [c.clientId, c]));
  const tenantOfUser = new Map(users.map((u) => [u.username, u]));

  const configuration = (): Configuration => ({
    clients: [
      ...machineClients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
      {
        client_id: publicClientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [...redirectUris],
        scope: 'openid offline_access',
      },
    ],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: keys.map((k) => ({ ...k })) },
    // OpenID scopes only: RetailFlow's scopes belong to its resource (getResourceServerInfo below).
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'], tenant: [TENANT_CLAIM] },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: accessTtl,
      ClientCredentials: accessTtl,
      AuthorizationCode: 60,
      IdToken: accessTtl,
      Interaction: 600,
      Session: 3600,
      Grant: 86_400,
      RefreshToken: options.refreshTokenTtlSec ?? 86_400,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== audience) throw new errors.InvalidTarget();
          // What each client may ask for: a machine client its own list, people the tenant scopes, never admin.
          const scopes = tenantOfClient.get(client.clientId)?.scopes ?? PERSON_SCOPES;
          return {
            scope: scopes.join(' '),
            audience,
            accessTokenTTL: accessTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    findAccount: (_ctx, id) => {
      const user = tenantOfUser.get(id);
      if (!user) return undefined;
      return { accountId: id, claims: () => ({ sub: id, [TENANT_CLAIM]: user.tenantId }) };
    },
    extraTokenClaims: (_ctx, token) => {
      const t = token as unknown as { accountId?: string; clientId?: string; grantId?: string };
      const tenantId =
        t.accountId !== undefined
          ? tenantOfUser.get(t.accountId)?.tenantId
          : t.clientId !== undefined
            ? tenantOfClient.get(t.clientId)?.tenantId
            : undefined;
      return {
        ...(tenantId === undefined ? {} : { [TENANT_CLAIM]: tenantId }),
        // The grant (token family) id lets a resource server refuse every token of a revoked family at once.
        ...(t.grantId === undefined ? {} : { gid: t.grantId }),
      };
    },
    interactions: { url: (_ctx: KoaContextWithOIDC, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['retailflow-dev-idp-cookie-key'] },
    // Every error on stderr would drown a test's output; refusals are the point of most of those tests.
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  let provider = build();
  function build(): Provider {
    const p = new Provider(issuer, configuration());
    p.on('grant.revoked', (_ctx: unknown, grantId: string) => options.onGrantRevoked?.(grantId));
    return p;
  }

  async function interaction(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    uid: string,
  ): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ uid, prompt: details.prompt.name, client: details.params.client_id }));
      return;
    }
    const form = await readForm(req);
    const user = tenantOfUser.get(form.get('username') ?? '');
    if (!user || user.password !== form.get('password')) {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'wrong username or password',
      });
      return;
    }
    const clientId = String(details.params.client_id);
    const scope = details.params.scope;
    const requested = new Set(typeof scope === 'string' ? scope.split(' ') : []);
    const grant = new provider.Grant({ accountId: user.username, clientId });
    grant.addOIDCScope([...requested].filter((s) => s === 'openid' || s === 'offline_access').join(' '));
    grant.addOIDCClaims([TENANT_CLAIM]);
    grant.addResourceScope(
      audience,
      [...requested].filter((s) => (PERSON_SCOPES as readonly string[]).includes(s)).join(' '),
    );
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.username }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const match = /^\/interaction\/([\w-]{1,64})$/.exec(req.url ?? '');
    if (match) {
      interaction(req, res, match[1]!).catch(() => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_request"}');
      });
      return;
    }
    void provider.callback()(req, res);
  });

  return {
    issuer,
    audience,
    publicClientId,
    kids: () => keys.map((k) => k.kid!),
    async rotate(step) {
      if (step === 'publish') keys = [...keys, await signingKey(`dev-${++keySeq}`)];
      else if (step === 'activate') keys = [keys.at(-1)!, ...keys.slice(0, -1)];
      else keys = keys.slice(0, 1);
      // oidc-provider reads its keys once; a new instance over the same in-memory store (its adapter is shared
      // in the process) serves the new JWKS on the same port.
      provider = build();
      return keys.map((k) => k.kid!);
    },
    async mint(claims, header = {}) {
      const key = keys[0]!;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid!, ...header })
        .sign(await importJWK(key, 'ES256'));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
