import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { RequestAuthentication, type Authenticator } from '../../src/http/authenticate.js';
import type { Tenant } from '../../src/data/index.js';
import { T0, bearerRequest } from '../helpers.js';

// Found by attacking the "holding" fix: the hold is released in a `finally` after the authenticators settle; nothing bounds
// how long that takes, and a client disconnecting does not end it. A check whose authenticator never settles (a
// store query on a half-open connection, a Redis command queued while reconnecting, any lookup without a deadline)
// holds one unit of its source's budget forever. Once the budget's worth of checks hang (30 by default), the source
// is refused 429 for every credential not known, for good: no failure was ever counted, and the GCRA budget
// refilling over time does not help, because the holds are never released.
// Now a check still running after the hold timeout (10 s) is counted as a failed attempt and its unit freed.

const SOURCE = '192.0.2.77';
const request = (credential: string) => bearerRequest(SOURCE, credential);

describe('checks that never end', () => {
  it('do not lock their source out for good once the store answers again', async () => {
    const clock = new ManualClock(T0);
    let hang = true;
    const store: Authenticator = {
      name: 'store',
      authenticate() {
        if (hang) return new Promise(() => undefined); // the store query never returns (no deadline)
        return Promise.resolve({
          tenant: { id: 'acme' } as unknown as Tenant,
          principal: { tenantId: 'acme', subject: 'key:ok', scopes: [], via: 'stub' },
        });
      },
    };
    const auth = new RequestAuthentication({ authenticators: [store], clock, failuresPerMinute: 5 });
    for (let i = 0; i < 5; i++) void auth.check(request(`client-${i}-key`)); // clients give up and disconnect
    await Promise.resolve();
    hang = false; // the store recovers
    clock.advance(24 * 3600_000); // a day later, no failure was ever counted
    const outcome = await auth.check(request('valid-key-of-a-new-client'));
    expect(outcome.ok ? 'authenticated' : outcome.failure).toBe('authenticated');
  });
});
