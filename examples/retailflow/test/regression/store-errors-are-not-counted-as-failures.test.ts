import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { call, startTestService } from '../helpers.js';

// Found by attacking the failure budget while the store fails. When an authenticator threw (the credential store
// erroring or timing out), RequestAuthentication.check rejected before it counted the failure, and the front door
// handed the request to express without an ingress permit, where identityAuth looked the same credential up again:
// while the store was failing, one source's guesses were never throttled and each cost two store calls, landing on
// the store when it was weakest. Now an attempt with a credential never seen counts against its source whatever the
// store answered, and the front door answers the outage itself (503, Retry-After), without a second lookup.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('wrong credentials while the credential store fails', () => {
  it('are still counted against their source, and reach the store at most once each within the budget', async () => {
    service = (await startTestService({ authFailuresPerMinute: 3 })).service;
    let lookups = 0;
    service.repo.findTenantByApiKeyHash = () => {
      lookups++;
      return Promise.reject(
        Object.assign(new Error('connection terminated unexpectedly'), { code: '57P01' }),
      );
    };
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push(
        (await call(service.url, 'GET', '/api/v1/orders', { key: `outage-guess-${i}-xxxxxxxx` })).status,
      );
    }
    // The outage is answered at the door (the store is away: retry later), and past the budget the source is
    // refused unread (429), whatever the store is doing.
    expect(statuses.slice(0, 3)).toEqual([503, 503, 503]);
    expect({ throttled: statuses.filter((s) => s === 429).length, lookups }).toEqual({
      throttled: 17,
      lookups: 3,
    });
  });
});
