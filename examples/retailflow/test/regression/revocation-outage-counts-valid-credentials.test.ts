import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { RequestAuthentication } from '../../src/http/authenticate.js';
import { checkUnfinished } from '../../src/identity/errors.js';
import { identityAuthenticator } from '../../src/identity/authenticate.js';
import type { Tenant } from '../../src/data/index.js';
import { T0, bearerRequest } from '../helpers.js';

// Found by attacking the "a failing credential store counts the attempt" fix. RequestAuthentication.check counts a failure
// against the source whenever an authenticator throws for a credential not known. identityAuthenticator throws not
// only when the store fails but also when the revocation list cannot answer a write (RevocationUnavailableError,
// fail-closed for high-risk requests), i.e. for a VALID credential. During a revocation-list (Redis) outage every
// write with a valid, not-yet-known credential (an issued API key, a freshly refreshed JWT) burns its source's
// failure budget; the credential is never remembered as authenticated, so once the budget is spent the source is
// refused 429 unread, including the GETs the revocation design promises to serve on the credential alone.
// Now errors that say nothing against the credential (`checkUnfinished`: the revocation list or the key set away)
// are not counted.

const SOURCE = '198.51.100.20';
const request = (method: string) => bearerRequest(SOURCE, 'rfk_valid_issued_key_of_acme_0123456789', method);

describe('a valid issued API key while the revocation list is down', () => {
  it('is not counted as a failed authentication, and its reads keep being served', async () => {
    const clock = new ManualClock(T0);
    const acme = { id: 'acme', name: 'Acme', plan: 'pro', status: 'active' } as unknown as Tenant;
    const authenticator = identityAuthenticator({
      repo: {
        findTenantByApiKeyHash: () => Promise.resolve(undefined),
        getTenant: (id: string) => Promise.resolve(id === 'acme' ? acme : undefined),
      },
      cache: (_key, load) => load(),
      apiKeys: { verify: () => Promise.resolve({ id: 'k1', tenantId: 'acme' } as never) },
      revocations: { isRevoked: () => Promise.reject(new Error('redis: connection refused')) } as never,
    });
    const auth = new RequestAuthentication({
      authenticators: [authenticator],
      clock,
      uncounted: checkUnfinished,
      failuresPerMinute: 5,
    });
    // The client retries its order a few times (each is answered 503 revocation-unavailable, as designed).
    for (let i = 0; i < 6; i++) await auth.check(request('POST')).catch(() => undefined);
    // Its reads are low-risk: the revocation design serves them on the key alone.
    const read = await auth.check(request('GET'));
    expect(read.ok ? 'authenticated' : read.failure).toBe('authenticated');
  });
});
