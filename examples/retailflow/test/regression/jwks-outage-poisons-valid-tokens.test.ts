import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { RequestAuthentication } from '../../src/http/authenticate.js';
import { checkUnfinished } from '../../src/identity/errors.js';
import { identityAuthenticator } from '../../src/identity/authenticate.js';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';
import { jwtAuthenticator } from '../../src/identity/jwt.js';
import { clientCredentials } from '../../src/identity/oauth-client.js';
import type { Tenant } from '../../src/data/index.js';
import { T0, bearerRequest } from '../helpers.js';

// Found by attacking the front door's failure budget with the IdP's key set away. jwtAuthenticator refuses a token it cannot
// check when the JWKS fetch fails (401 'signing keys unavailable': "never a 5xx for a client's input"), and
// identityAuthenticator turns every AuthError into "not a credential I accept". RequestAuthentication then treats a
// VALID token exactly like a guess: counted against its source, and remembered as unknown for the negative TTL
// (60 s), during which it is answered 401 without being checked again. A JWKS blip of one second (an IdP deploy, a
// network hiccup, a timeout of 5 s under load) thus makes every fresh token presented during it fail for a further
// minute after the IdP is back, and burns the budget of every address presenting them (an office NAT is throttled
// after 30 fresh tokens).
// Now a key set that cannot be fetched (no answer, not 200, not a key set) is SigningKeysUnavailableError: the
// check rejects, express answers 401, and nothing is counted or remembered against the token.

const SOURCE = '203.0.113.50';
const request = (token: string) => bearerRequest(SOURCE, token);

describe('a valid token presented while the key set cannot be fetched', () => {
  let idp: DevIdp;
  let jwks: http.Server;
  let jwksUp = false;
  beforeAll(async () => {
    idp = await startDevIdp({ accessTokenTtlSec: 300 });
    // The JWKS as seen through the network: down at first, then back.
    jwks = http.createServer((_req, res) => {
      if (!jwksUp) {
        res.writeHead(503).end();
        return;
      }
      void fetch(`${idp.issuer}/jwks`)
        .then((r) => r.text())
        .then((body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => jwks?.close(resolve));
    await idp?.close();
  });

  it('is checked again once the key set is back, not refused as a known-bad credential', async () => {
    const clock = new ManualClock(T0);
    const acme = { id: 'acme', name: 'Acme', plan: 'pro', status: 'active' } as unknown as Tenant;
    const jwt = jwtAuthenticator({
      issuer: idp.issuer,
      audience: idp.audience,
      jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
      onError: () => undefined,
    });
    const authenticator = identityAuthenticator({
      repo: {
        findTenantByApiKeyHash: () => Promise.resolve(undefined),
        getTenant: (id: string) => Promise.resolve(id === 'acme' ? acme : undefined),
      },
      cache: (_key, load) => load(),
      jwt,
    });
    const auth = new RequestAuthentication({
      authenticators: [authenticator],
      clock,
      uncounted: checkUnfinished,
    });
    const token = (
      await clientCredentials(
        idp.issuer,
        { id: 'acme-backend', secret: 'acme-backend-dev-secret' },
        'orders:read',
        idp.audience,
      )
    ).access_token;

    // The keys cannot be fetched: the check cannot finish (the front door hands the request to express, which
    // answers 401), and nothing is counted or remembered against the token.
    await expect(auth.check(request(token))).rejects.toThrow(/signing keys unavailable/);
    jwksUp = true; // the IdP is back a second later
    clock.advance(1_000);
    // Control: the token is valid and the key set is fetched again (a fresh front door accepts it).
    const fresh = new RequestAuthentication({
      authenticators: [authenticator],
      clock,
      uncounted: checkUnfinished,
    });
    expect((await fresh.check(request(token))).ok).toBe(true);
    const after = await auth.check(request(token));
    expect(after.ok ? 'authenticated' : after.failure).toBe('authenticated');
  });
});
