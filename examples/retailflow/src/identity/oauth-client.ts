import { createHash, randomBytes } from 'node:crypto';

/** The token endpoint's answer (RFC 6749 §5.1). */
export interface TokenSet {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope?: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
}

/** An error answer of the authorization server (RFC 6749 §5.2). */
export class OAuthError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, description: string | undefined) {
    super(`${error}${description ? `: ${description}` : ''} (HTTP ${status})`);
    this.name = 'OAuthError';
    this.status = status;
    this.error = error;
  }
}

async function tokenRequest(
  issuer: string,
  form: Record<string, string>,
  basic?: { id: string; secret: string },
): Promise<TokenSet> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(basic.id)}:${enc(basic.secret)}`).toString('base64')}`;
  }
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    throw new OAuthError(response.status, String(body.error), body.error_description as string | undefined);
  }
  return body as unknown as TokenSet;
}

/**
 * Client credentials grant (RFC 6749 §4.4) for a machine client: an access token for `resource` with `scope`.
 *
 * @example
 * ```ts
 * const tokens = await clientCredentials(idp.issuer, { id: 'acme-backend', secret: 's' }, 'orders:write', aud);
 * ```
 */
export function clientCredentials(
  issuer: string,
  client: { readonly id: string; readonly secret: string },
  scope: string,
  resource: string,
): Promise<TokenSet> {
  return tokenRequest(issuer, { grant_type: 'client_credentials', scope, resource }, client);
}

/**
 * Refresh token grant: with rotation on, the answer carries a new refresh token and the old one is spent; using a
 * spent one again revokes the whole family.
 *
 * @example
 * ```ts
 * const next = await refresh(idp.issuer, 'retailflow-web', tokens.refresh_token!);
 * ```
 */
export function refresh(issuer: string, clientId: string, refreshToken: string): Promise<TokenSet> {
  return tokenRequest(issuer, {
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
  });
}

/**
 * Revokes a token at the authorization server (RFC 7009).
 *
 * @example
 * ```ts
 * await revokeToken(idp.issuer, 'retailflow-web', tokens.refresh_token!);
 * ```
 */
export async function revokeToken(issuer: string, clientId: string, token: string): Promise<void> {
  const response = await fetch(`${issuer}/token/revocation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_id: clientId }).toString(),
  });
  await response.body?.cancel();
  if (!response.ok) throw new OAuthError(response.status, 'revocation_failed', undefined);
}

class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) this.#cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Options of {@link authorizationCodeWithPkce}. */
export interface PkceFlowOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly username: string;
  readonly password: string;
  /** The resource (RFC 8707) the access token is for: RetailFlow's audience. */
  readonly resource: string;
  /** @default 'openid offline_access catalog:read orders:read orders:write' */
  readonly scope?: string;
  /** Called with each step, for a demo's output. */
  readonly log?: (line: string) => void;
}

/**
 * The authorization code flow with PKCE (RFC 7636, S256) as a browser would run it, headless: authorization
 * request with `code_challenge` and `state`, the sign-in interaction (the development server's JSON form), the
 * redirect back with the code, `state` checked, then the code exchanged with the `code_verifier`. A code stolen
 * without the verifier is useless.
 *
 * @example
 * ```ts
 * const tokens = await authorizationCodeWithPkce({ issuer, clientId: 'retailflow-web',
 *   redirectUri: 'http://127.0.0.1:8765/callback', username: 'alice', password: 'alice-dev-password', resource: idp.audience });
 * ```
 */
export async function authorizationCodeWithPkce(options: PkceFlowOptions): Promise<TokenSet> {
  const log = options.log ?? (() => {});
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const jar = new CookieJar();
  const authorize = new URL(`${options.issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    scope: options.scope ?? 'openid offline_access catalog:read orders:read orders:write',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: options.resource,
    state,
    prompt: 'consent',
  }).toString();
  log(`1. authorization request with code_challenge (S256): ${authorize.pathname}`);

  let url = authorize.href;
  for (let hop = 0; hop < 10; hop++) {
    if (url.startsWith(options.redirectUri)) {
      const back = new URL(url);
      const error = back.searchParams.get('error');
      if (error) throw new OAuthError(400, error, back.searchParams.get('error_description') ?? undefined);
      if (back.searchParams.get('state') !== state) throw new OAuthError(400, 'state_mismatch', undefined);
      const code = back.searchParams.get('code');
      if (!code) throw new OAuthError(400, 'missing_code', undefined);
      log('4. redirected back with the code; state matches; exchanging it with the code_verifier');
      return tokenRequest(options.issuer, {
        grant_type: 'authorization_code',
        client_id: options.clientId,
        code,
        redirect_uri: options.redirectUri,
        code_verifier: verifier,
      });
    }
    const interaction = /\/interaction\/[\w-]+$/.test(new URL(url).pathname);
    const response = await fetch(url, {
      redirect: 'manual',
      ...(interaction
        ? {
            method: 'POST',
            headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ username: options.username, password: options.password }).toString(),
          }
        : { headers: { cookie: jar.header() } }),
    });
    if (interaction) log(`3. signed in as ${options.username} and consented`);
    jar.store(response);
    await response.body?.cancel();
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      throw new OAuthError(response.status, 'unexpected_response', `at ${new URL(url).pathname}`);
    }
    url = new URL(location, url).href;
    if (/\/interaction\//.test(url) && !interaction) log('2. the server asks for sign-in');
  }
  throw new OAuthError(400, 'too_many_redirects', undefined);
}
