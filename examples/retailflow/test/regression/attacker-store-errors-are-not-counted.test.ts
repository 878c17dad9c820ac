import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { call, startTestService } from '../helpers.js';

// Found by attacking the failure budget while the store fails. When an authenticator throws (the credential store
// erroring or timing out), RequestAuthentication.check rejects before it counts the failure, and the front door
// hands the request to express without an ingress permit, where identityAuth looks the same credential up again.
// So while the store is failing, wrong credentials are never counted: one source's guesses are never throttled,
// each costs two store calls, and none holds a permit: the flood lands on the store exactly when it is weakest.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('wrong credentials while the credential store fails', () => {
  it('are still counted against their source, and reach the store at most once each within the budget', async () => {
    service = (await startTestService({ authFailuresPerMinute: 3 })).service;
    let lookups = 0;
    service.repo.findTenantByApiKeyHash = async () => {
      lookups++;
      throw Object.assign(new Error('connection terminated unexpectedly'), { code: '57P01' });
    };
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push((await call(service.url, 'GET', '/api/v1/orders', { key: `outage-guess-${i}-xxxxxxxx` })).status);
    }
    // Past the budget the source should be refused unread (429), whatever the store is doing.
    expect({ throttled: statuses.filter((s) => s === 429).length, lookups }).toEqual({ throttled: 17, lookups: 3 });
  });
});
