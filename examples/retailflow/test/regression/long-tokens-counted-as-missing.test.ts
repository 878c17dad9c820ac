import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { RequestAuthentication, type Authenticator } from '../../src/http/authenticate.js';
import type { Tenant } from '../../src/data/index.js';
import { T0, bearerRequest } from '../helpers.js';

// Found by attacking the front door: it read a bearer credential of at most 4096 characters (`bearerToken`), while the identity layer
// behind it accepts 8192 (`identityAuth`'s bearer) and the JWT verifier a payload part of up to 16 384. A valid
// access token between 4097 and 8192 characters (many scopes, groups or a large `authorization_details` claim) is
// answered 401 "missing token" at the door, and every such request is counted as a failed attempt against its
// source, so one client using such tokens gets its address throttled (429) after 30 requests.
// Now the front door reads credentials up to 8192 characters, as the identity layer does.

const request = (credential: string) => bearerRequest('198.51.100.99', credential);

describe('a valid bearer token longer than 4096 characters', () => {
  it('is handed to the authenticators (the identity layer accepts up to 8192), not refused as missing', async () => {
    const bigToken = `eyJ${'a'.repeat(5_000)}.eyJ${'b'.repeat(100)}.${'c'.repeat(86)}`;
    const accepts: Authenticator = {
      name: 'stub',
      authenticate: (credential) =>
        Promise.resolve(
          credential === bigToken
            ? {
                tenant: { id: 'acme' } as unknown as Tenant,
                principal: { tenantId: 'acme', subject: 'big', scopes: [], via: 'stub' },
              }
            : undefined,
        ),
    };
    const auth = new RequestAuthentication({ authenticators: [accepts], clock: new ManualClock(T0) });
    const outcome = await auth.check(request(bigToken));
    expect(outcome.ok ? 'authenticated' : outcome.failure).toBe('authenticated');
  });
});
