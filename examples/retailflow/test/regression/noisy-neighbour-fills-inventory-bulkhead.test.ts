import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ManualClock } from '@ballast/core';
import { ACME, GLOBEX, call, order, startTestService, until } from '../helpers.js';

// Found by an attack: one free-plan tenant's burst of checkouts filled the shared inventory bulkhead and another
// tenant's checkouts got 503; and any tenant could force 503s/504s (counted against the shared SLO) by sending
// `x-request-deadline-ms: 0`. A tenant now holds at most its share of the bulkhead (beyond it: 429, its own
// problem), and a caller budget below the floor is a 400 before any work.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('a noisy neighbour', () => {
  it("cannot take another tenant's inventory slots with a burst of checkouts", async () => {
    // 2 slots, no queue: globex may hold one of them (its share is half).
    const started = await startTestService({ inventoryConcurrency: 2, inventoryQueue: 0 });
    service = started.service;
    const ops = service.opsUrl ?? service.url;
    // Warm the key cache, then make every store call slow (1 s of manual time): reservations hold their slot.
    expect((await call(service.url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    expect((await call(service.url, 'GET', '/api/v1/products', { key: GLOBEX })).status).toBe(200);
    const chaos = await call(ops, 'POST', '/admin/chaos', {
      key: 'rf_admin_dev_key',
      body: { target: 'storage', enabled: true, latencyMs: 1_000 },
    });
    expect(chaos.status).toBe(200);
    let answered = 0;
    const burst = Array.from({ length: 6 }, (_, i) =>
      order(service!.url, GLOBEX, `burst-${i}`).finally(() => answered++),
    );
    // Before the fix the burst takes both slots (and the rest are 503s); after it, one slot, three checkouts
    // waiting at the door for it (until their wait runs out) and two 429s at once.
    await until(
      () =>
        (answered === 2 && service!.policies.ingressLimiter.tenantQueued === 3) ||
        service!.policies.inventoryBulkhead.inFlight === 2,
      'the burst to settle',
    );
    const mine = order(service.url, ACME, 'acme-during-burst');
    await until(() => service!.policies.inventoryBulkhead.inFlight === 2, "acme's checkout to get a slot");
    await call(ops, 'POST', '/admin/chaos', {
      key: 'rf_admin_dev_key',
      body: { target: 'storage', enabled: false },
    });
    started.clock.advance(1_000);
    const answers = await Promise.all(burst);
    expect((await mine).status).toBe(201);
    // globex's own burst is refused with 429s (its problem), never 503s counted against everyone.
    expect(answers.map((a) => a.status).sort()).toEqual([201, 429, 429, 429, 429, 429]);
  });

  it('cannot force 5xx with a tiny x-request-deadline-ms: it is a 400', async () => {
    service = (await startTestService()).service;
    for (const budget of ['0', '1', '10']) {
      const answer = await call(service.url, 'POST', '/api/v1/orders', {
        key: GLOBEX,
        body: { items: [{ productId: 'sku-mug', quantity: 1 }] },
        headers: { 'idempotency-key': `tiny-${budget}`, 'x-request-deadline-ms': budget },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.path).toBe('header/x-request-deadline-ms');
    }
  });
});

describe('a noisy neighbour at the front door', () => {
  it('borrows only what nobody else uses; another tenant is admitted on its guaranteed share', async () => {
    const providerClock = new ManualClock(0);
    const started = await startTestService(
      // A bulkhead large enough that the checkout share (half of 16) is not the bound here; the ingress is.
      { ingressInitialLimit: 8, ingressMinLimit: 8, inventoryConcurrency: 16 },
      { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } } },
    );
    service = started.service;
    // Nobody else is using the ingress: globex's burst borrows the whole limit of 8 (its checkouts wait at the
    // provider, holding their permits).
    const burst = Array.from({ length: 8 }, (_, i) => order(service!.url, GLOBEX, `front-${i}`));
    await until(() => service!.provider!.attempts === 8, 'the burst at the provider');
    // The limit is full: globex's next checkout waits (it holds more than its share of the checkout reservation)...
    const more = order(service.url, GLOBEX, 'front-more');
    // ...while acme's is admitted on its own share of the reservation, though the limit is full.
    const mine = order(service.url, ACME, 'front-acme');
    await until(() => service!.provider!.attempts === 9, "acme's checkout at the provider");
    expect(service.policies.ingressLimiter.queued).toBe(1);
    providerClock.advance(1_000);
    expect((await mine).status).toBe(201);
    expect((await Promise.all(burst)).map((a) => a.status)).toEqual(Array(8).fill(201));
    await until(() => service!.provider!.attempts === 10, "globex's queued checkout at the provider");
    providerClock.advance(1_000);
    expect((await more).status).toBe(201);
  });
});
