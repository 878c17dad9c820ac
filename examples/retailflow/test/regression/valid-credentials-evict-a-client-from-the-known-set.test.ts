import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { RequestAuthentication, type Authenticator } from '../../src/http/authenticate.js';
import type { Tenant } from '../../src/data/index.js';
import type { RetailFlow } from '../../src/service.js';
import { T0, call, bearerRequest } from '../helpers.js';
import { useDevTokens } from '../identity/dev-tokens.js';

// Found by attacking the failure budget's memory. A source over its budget is refused unread unless its credential
// authenticated in the last ten minutes, or it claims a subject that did. That memory was one bounded set (10,000
// digests) to which every successful authentication of a credential never seen added one: an attacker sharing an
// address with a client (an office, a NAT, a load balancer not listed in TRUSTED_PROXIES) spent the address's
// budget, then authenticated 10,000 valid credentials of its own (fresh tokens are free from the IdP, and the JWT
// verifier accepted 16 spellings of each token: the last base64url character of a part carries unused bits that
// decoders ignore), and the client's entry was pushed out: refused 429 for as long as the attacker kept the address
// over its budget. Now the memory is partitioned: a client's credentials (grouped by the subject they claim, else
// their principal) push out only that client's older ones, a tenant's only that tenant's, and a token has one
// spelling.

const SOURCE = '203.0.113.9'; // the shared address (a NAT)

const request = (credential: string) => bearerRequest(SOURCE, credential);

const tenant = { id: 'acme' } as unknown as Tenant;
/** The service's credentials: one tenant API key (no subject), and any number of tokens of the attacker's account. */
const stub: Authenticator = {
  name: 'stub',
  authenticate(credential) {
    if (credential === 'victim-api-key' || credential.startsWith('attacker-token-')) {
      return Promise.resolve({
        tenant,
        principal: { tenantId: 'acme', subject: credential, scopes: [], via: 'stub' },
      });
    }
    return Promise.resolve(undefined);
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
  const tokens = useDevTokens();
  let service: RetailFlow | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  it('accepts only the issued spelling of a token', async () => {
    ({ service } = await tokens.service());
    const token = await tokens.acmeToken();
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: token })).status).toBe(200);
    // RS256: 256 signature bytes are 342 base64url characters, the last one holding 2 bits and 4 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    const spellings = Array.from(
      { length: 16 },
      (_, low) => token.slice(0, -1) + alphabet[(last & ~15) | low],
    ).filter((t) => t !== token);
    expect(spellings).toHaveLength(15);
    const statuses = [];
    for (const spelling of spellings) {
      statuses.push((await call(service.url, 'GET', '/api/v1/orders', { key: spelling })).status);
    }
    expect(statuses).toEqual(spellings.map(() => 401));
  });
});
