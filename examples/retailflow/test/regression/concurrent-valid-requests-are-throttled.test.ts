import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { RequestAuthentication, type Authenticator } from '../../src/http/authenticate.js';
import type { Tenant } from '../../src/data/index.js';
import { T0, bearerRequest } from '../helpers.js';

// Found by attacking the "holding" fix: a check under way counts against its source's failure budget until it ends. A check
// that will SUCCEED counts too, so a legitimate client (or an office/NAT, or every client behind a load balancer
// not listed in TRUSTED_PROXIES) that sends more concurrent requests with a credential not yet known than the
// per-minute failure budget (30) is refused 429 without a single failed authentication. Every credential is
// "not yet known" after a restart or when a token is refreshed, and a slow store (a DB latency spike) makes the
// checks last longer, so fewer requests per second suffice.
// Now a check beyond what is left of the budget waits for those under way to be decided, and goes on if they
// succeeded.

const SOURCE = '203.0.113.9';
const request = (credential: string) => bearerRequest(SOURCE, credential);

describe('concurrent requests of a valid credential never seen before', () => {
  it('are all authenticated: no attempt failed, so the source is not over its failure budget', async () => {
    const clock = new ManualClock(T0);
    let release!: () => void;
    const storeAnswers = new Promise<void>((r) => (release = r));
    const slowButValid: Authenticator = {
      name: 'slow-store',
      async authenticate() {
        await storeAnswers; // the store answers a bit slowly (e.g. 200 ms under load)
        return {
          tenant: { id: 'acme' } as unknown as Tenant,
          principal: { tenantId: 'acme', subject: 'key:valid', scopes: [], via: 'stub' },
        };
      },
    };
    const auth = new RequestAuthentication({ authenticators: [slowButValid], clock });
    // A dashboard opening 40 parallel GETs with the tenant's valid API key, just after a deploy.
    const checks = Array.from({ length: 40 }, () => auth.check(request('valid-api-key-of-acme')));
    release();
    const outcomes = await Promise.all(checks);
    const refused = outcomes.filter((o) => !o.ok).map((o) => (o.ok ? '' : o.failure));
    expect(refused).toEqual([]);
  });
});
