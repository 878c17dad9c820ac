import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';
import { clientCredentials } from '../../src/identity/oauth-client.js';
import { RequestAuthentication, type Authenticator } from '../../src/http/authenticate.js';
import type { Tenant } from '../../src/data/index.js';
import type { RetailFlow } from '../../src/service.js';
import { T0, call, startTestService } from '../helpers.js';

// Found by attacking the failure budget's memory. A source over its budget is refused unread unless its credential
// authenticated in the last ten minutes (`#known`), or it claims a subject that did. `#known` is bounded (10 000
// digests, two generations of 5 000) and every successful authentication of a credential never seen adds one, with
// no budget of any kind. So an attacker sharing an address with a client (an office, a NAT, a load balancer not
// listed in TRUSTED_PROXIES) spends the address's failure budget, then authenticates 10 000 distinct valid
// credentials of its own (fresh tokens are free from the IdP, and the JWT verifier accepts 16 spellings of each
// RS256/ES256 token: the last base64url character of the signature carries 4 unused bits that atob ignores). The
// client's entry is pushed out, and the client is refused 429 for as long as the attacker keeps the address over
// its budget (one wrong guess every 2 s). An API-key client has no subject to be vouched by: it is locked out
// outright; a token client is then at the mercy of its subject's budget, which the attacker can spend too.

const SOURCE = '203.0.113.9'; // the shared address (a NAT)

const request = (credential: string) =>
  ({
    method: 'GET',
    socket: { remoteAddress: SOURCE },
    headers: { authorization: `Bearer ${credential}` },
  }) as unknown as IncomingMessage;

const tenant = { id: 'acme' } as unknown as Tenant;
/** The service's credentials: one tenant API key (no subject), and any number of tokens of the attacker's account. */
const stub: Authenticator = {
  name: 'stub',
  async authenticate(credential) {
    if (credential === 'victim-api-key' || credential.startsWith('attacker-token-')) {
      return { tenant, principal: { tenantId: 'acme', subject: credential, scopes: [], via: 'stub' } };
    }
    return undefined;
  },
  claimedSubject: (credential) =>
    credential.startsWith('attacker-token-') ? 'https://idp.example\nattacker' : undefined,
};

describe('the memory of credentials that authenticated', () => {
  it('keeps a client sharing an address with an attacker working, whatever the attacker authenticates', async () => {
    const clock = new ManualClock(T0);
    const auth = new RequestAuthentication({ authenticators: [stub], clock, failuresPerMinute: 3 });
    expect((await auth.check(request('victim-api-key'))).ok).toBe(true);
    expect((await auth.check(request('attacker-token-0'))).ok).toBe(true);
    for (let i = 0; i < 4; i++) await auth.check(request(`wrong-guess-${i}`));
    // The address is over its budget; the victim's key is known, so it keeps working (as designed).
    expect((await auth.check(request('victim-api-key'))).ok).toBe(true);
    // The attacker authenticates 10 000 fresh credentials of its own account (vouched by its own subject: they
    // all succeed, so no budget is spent), all within a few seconds.
    for (let i = 1; i <= 10_000; i++) {
      const outcome = await auth.check(request(`attacker-token-${i}`));
      if (!outcome.ok) throw new Error(`attacker token ${i} refused`);
    }
    const victim = await auth.check(request('victim-api-key'));
    expect(victim.ok ? 'ok' : victim.failure).toBe('ok');
  });
});

describe('the JWT verifier', () => {
  let idp: DevIdp;
  let service: RetailFlow | undefined;
  beforeAll(async () => {
    idp = await startDevIdp({ accessTokenTtlSec: 300 });
  });
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });
  afterAll(async () => {
    await idp?.close();
  });

  it('accepts only the issued spelling of a token (else each token is 16 distinct known credentials)', async () => {
    const clock = new ManualClock(Date.now());
    service = (
      await startTestService({ oidcIssuer: idp.issuer, oidcAudience: idp.audience }, { clock })
    ).service;
    const token = (
      await clientCredentials(
        idp.issuer,
        { id: 'acme-backend', secret: 'acme-backend-dev-secret' },
        'orders:read',
        idp.audience,
      )
    ).access_token;
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: token })).status).toBe(200);
    // RS256: 256 signature bytes are 342 base64url characters, the last one holding 2 bits and 4 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    const spellings = Array.from({ length: 16 }, (_, low) => token.slice(0, -1) + alphabet[(last & ~15) | low]).filter(
      (t) => t !== token,
    );
    expect(spellings).toHaveLength(15);
    const statuses = [];
    for (const spelling of spellings) {
      statuses.push((await call(service.url, 'GET', '/api/v1/orders', { key: spelling })).status);
    }
    expect(statuses).toEqual(spellings.map(() => 401));
  });
});
