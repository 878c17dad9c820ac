import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, GLOBEX, call, countLookups, startTestService } from '../helpers.js';

// Found by an attack: 401s were never rate limited, bodies were parsed before the key was checked, and every
// random key missed the tenant cache and cost a database lookup. Failed authentications are now counted per
// source address (in memory, bounded); past the budget the source gets 429 without any lookup, and a key found
// unknown is remembered (bounded) so repeating it costs no lookup either.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('an unauthenticated flood', () => {
  it('is throttled per source, and random keys stop reaching the store', async () => {
    const started = await startTestService({ authFailuresPerMinute: 10 });
    service = started.service;
    const lookups = countLookups(service);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await call(service.url, 'POST', '/api/v1/orders', {
        key: `random-key-${i}-xxxxxxxx`,
        raw: '{"items": [',
        headers: { 'content-type': 'application/json' },
      });
      statuses.push(answer.status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    expect(lookups()).toBe(10);
    // The body was never parsed: a malformed one got 401/429, not 400.
    expect(statuses).not.toContain(400);

    // Half a minute later the source may try again; the same wrong key is answered from memory.
    started.clock.advance(30_000);
    const again = await call(service.url, 'GET', '/api/v1/orders', { key: 'random-key-0-xxxxxxxx' });
    expect(again.status).toBe(401);
    expect(lookups()).toBe(10);
  });

  it('lets keys that authenticated before through from a source over its budget, and nothing else', async () => {
    service = (await startTestService({ authFailuresPerMinute: 2 })).service;
    expect((await call(service.url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      await call(service.url, 'GET', '/api/v1/orders', { key: `nope-${i}-xxxxxxxx` });
    }
    // Same source (loopback): acme's key is known, so a tenant behind the attacker's address keeps working.
    expect((await call(service.url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    // A key never seen is refused unread while the source is over its budget.
    expect((await call(service.url, 'GET', '/api/v1/products', { key: GLOBEX })).status).toBe(429);
  });
});
