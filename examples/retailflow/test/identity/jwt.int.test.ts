import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';
import { isAuthError } from '../../src/identity/errors.js';
import { jwtAuthenticator, type JwtAuthenticator } from '../../src/identity/jwt.js';
import { clientCredentials } from '../../src/identity/oauth-client.js';
import { InMemoryRevocationList } from '../../src/identity/revocation.js';

const ACME = { id: 'acme-backend', secret: 'acme-backend-dev-secret' };
const SCOPE = 'orders:read orders:write';

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (!isAuthError(error)) throw error;
    return `${error.status} ${error.reason}`;
  }
}

describe('jwtAuthenticator against the development authorization server', () => {
  let idp: DevIdp;
  let clock: ManualClock;
  let revocations: InMemoryRevocationList;
  let jwt: JwtAuthenticator;
  const token = async () => (await clientCredentials(idp.issuer, ACME, SCOPE, idp.audience)).access_token;

  beforeAll(async () => {
    idp = await startDevIdp({ accessTokenTtlSec: 300 });
    clock = new ManualClock(Date.now());
    revocations = new InMemoryRevocationList(clock);
    jwt = jwtAuthenticator({
      issuer: idp.issuer,
      audience: idp.audience,
      clock,
      revocations,
      clockToleranceSec: 30,
    });
  });
  afterAll(async () => {
    await idp?.close();
  });

  it('turns a client-credentials token into a principal bound to its tenant', async () => {
    const principal = await jwt.authenticate(await token());
    expect(principal).toMatchObject({
      tenantId: 'acme',
      subject: 'acme-backend',
      clientId: 'acme-backend',
      via: 'jwt',
    });
    expect([...principal.scopes].sort()).toEqual(['orders:read', 'orders:write']);
  });

  it('honours exp with a bounded clock tolerance on the injected clock', async () => {
    const t = await token();
    const { exp } = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { exp: number };
    const at = new ManualClock(exp * 1000 + 29_000);
    const late = jwtAuthenticator({
      issuer: idp.issuer,
      audience: idp.audience,
      clock: at,
      clockToleranceSec: 30,
    });
    expect(await reason(late.authenticate(t))).toBe('accepted');
    at.advance(2_000);
    expect(await reason(late.authenticate(t))).toMatch(/^401 ERR_JWT_EXPIRED/);
  });

  it('refuses nbf in the future beyond the tolerance, accepts it within', async () => {
    const sec = Math.floor(clock.now() / 1000);
    const base = { iss: idp.issuer, aud: idp.audience, sub: 's', jti: 'j1', iat: sec, exp: sec + 300 };
    expect(await reason(jwt.authenticate(await idp.mint({ ...base, nbf: sec + 20 })))).toBe('accepted');
    expect(await reason(jwt.authenticate(await idp.mint({ ...base, nbf: sec + 60 })))).toMatch(
      /^401 ERR_JWT_CLAIM_VALIDATION_FAILED.*nbf/,
    );
  });

  it.each([
    ['iss', { iss: 'https://evil.example' }, /unexpected "iss"/],
    ['aud', { aud: 'https://other.example' }, /unexpected "aud"/],
    ['jti missing', { jti: undefined }, /missing required "jti"/],
    ['tenant claim malformed', { tenant_id: '../globex' }, /bad tenant_id/],
    ['scope not a string', { scope: ['admin'] }, /bad scope/],
  ])('refuses a validly signed token with a bad %s', async (_name, change, expected) => {
    const sec = Math.floor(clock.now() / 1000);
    const claims = {
      iss: idp.issuer,
      aud: idp.audience,
      sub: 's',
      jti: 'j2',
      iat: sec,
      exp: sec + 300,
      ...change,
    };
    expect(await reason(jwt.authenticate(await idp.mint(claims)))).toMatch(expected);
  });

  it('refuses a revoked jti and a revoked family (gid), and serves the same token before', async () => {
    const t = await token();
    expect(await reason(jwt.authenticate(t))).toBe('accepted');
    const { jti } = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { jti: string };
    await revocations.revoke({ kind: 'jti', id: jti, until: clock.now() + 300_000 });
    expect(await reason(jwt.authenticate(t))).toBe('401 token revoked');

    const sec = Math.floor(clock.now() / 1000);
    const family = await idp.mint({
      iss: idp.issuer,
      aud: idp.audience,
      sub: 's',
      jti: 'j3',
      gid: 'g1',
      iat: sec,
      exp: sec + 300,
    });
    expect(await reason(jwt.authenticate(family))).toBe('accepted');
    await revocations.revoke({ kind: 'gid', id: 'g1', until: clock.now() + 300_000 });
    expect(await reason(jwt.authenticate(family))).toBe('401 token revoked');
  });

  it('fails writes closed and serves reads when the revocation list cannot answer', async () => {
    const broken = jwtAuthenticator({
      issuer: idp.issuer,
      audience: idp.audience,
      clock,
      revocations: {
        revoke: () => Promise.resolve(),
        isRevoked: () => Promise.reject(new Error('Redis down')),
      },
    });
    const t = await token();
    expect(await reason(broken.authenticate(t, { highRisk: false }))).toBe('accepted');
    await expect(broken.authenticate(t, { highRisk: true })).rejects.toThrow(
      /revocation list could not be read/,
    );
  });

  it('rotates the signing key without a failed request: publish, activate, then retire', async () => {
    // A resource server that already cached the JWKS, then the issuer rotates.
    const rs = jwtAuthenticator({ issuer: idp.issuer, audience: idp.audience, clock, jwksCooldownMs: 0 });
    const before = await token();
    expect(await reason(rs.authenticate(before))).toBe('accepted');

    const published = await idp.rotate('publish');
    expect(published).toHaveLength(2);
    expect(await reason(rs.authenticate(await token()))).toBe('accepted');

    const active = await idp.rotate('activate');
    const after = await token();
    const kid = (t: string) =>
      (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(kid(after)).toBe(active[0]);
    expect(kid(after)).not.toBe(kid(before));
    // The new key is fetched on first sight of its kid; the old key's tokens are still honoured.
    expect(await reason(rs.authenticate(after))).toBe('accepted');
    expect(await reason(rs.authenticate(before))).toBe('accepted');

    // After retirement, a resource server that never saw the old key refuses its tokens.
    await idp.rotate('retire');
    const fresh = jwtAuthenticator({ issuer: idp.issuer, audience: idp.audience, clock });
    expect(await reason(fresh.authenticate(after))).toBe('accepted');
    expect(await reason(fresh.authenticate(before))).toMatch(/^401 ERR_JWKS_NO_MATCHING_KEY/);
  });

  it('refuses HMAC and none in its configuration', () => {
    for (const alg of ['HS256', 'none']) {
      expect(() =>
        jwtAuthenticator({ issuer: idp.issuer, audience: idp.audience, algorithms: [alg] }),
      ).toThrow(/Expected `algorithms` to be asymmetric JWS algorithms/);
    }
    expect(() => jwtAuthenticator({ issuer: 'http://idp.example.com', audience: 'a' })).toThrow(
      /Expected `issuer` to be an https URL/,
    );
  });
});
