import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { requestHash } from '../src/data/index.js';
import { type InMemoryBroker, type EventEnvelope } from '../src/events/index.js';
import type { RetailFlow } from '../src/service.js';
import {
  ACME,
  ADMIN,
  OPS,
  GLOBEX,
  call,
  drainOutbox,
  order,
  poisonEvent,
  settle,
  startTestService,
  until,
  type ApiOrder,
  type ApiProduct,
} from './helpers.js';

// Behaviour under failure, end to end over HTTP on embedded defaults. Each test gets its own service; time is a
// ManualClock that the test moves (retry backoff, breaker cool-down, SLO windows, relay polling).
let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

async function start(config = {}): Promise<{ svc: RetailFlow; clock: ManualClock; base: string }> {
  const started = await startTestService(config);
  service = started.service;
  return { svc: started.service, clock: started.clock, base: started.service.url };
}

describe('payment circuit breaker', () => {
  it('opens while the provider fails, stops calling it, and closes after it recovers', async () => {
    const { svc, clock, base } = await start();
    const provider = svc.provider!;
    provider.setKnobs({ down: true });

    const statuses: number[] = [];
    for (let i = 0; i < 4 && svc.policies.paymentBreaker.state !== 'open'; i++) {
      statuses.push((await settle(clock, order(base, ACME, `brk-${i}`))).status);
    }
    expect(svc.policies.paymentBreaker.state).toBe('open');
    expect(statuses.every((s) => s === 503)).toBe(true);

    // Open: checkouts fail fast without touching the provider, and leave no order pending.
    const attempts = provider.attempts;
    const fast = await settle(clock, order(base, ACME, 'brk-open'));
    expect(fast.status).toBe(503);
    expect(fast.body.type).toMatch(/payment-unavailable$/);
    expect(provider.attempts).toBe(attempts);
    const failed = await call<ApiOrder>(base, 'GET', `/api/v1/orders/${String(fast.body.orderId)}`, {
      key: ACME,
    });
    expect(failed.body.status).toBe('payment_failed');

    // The provider recovers; after the cool-down the next checkout is the probe that closes the circuit.
    provider.setKnobs({ down: false });
    clock.advance(10_000);
    expect(svc.policies.paymentBreaker.state).toBe('half-open');
    const probe = await settle(clock, order(base, ACME, 'brk-probe'));
    expect(probe.status).toBe(201);
    expect(svc.policies.paymentBreaker.state).toBe('closed');
    expect(provider.attempts).toBe(attempts + 1);
  });

  it('retries a flaky provider within the retry budget, with one charge per order', async () => {
    const { svc, clock, base } = await start();
    const provider = svc.provider!;
    let calls = 0;
    provider.setKnobs({ errorRate: 1 });
    // Fail the first attempt of each checkout only: the knob goes back to 0 after the first failure.
    const placed = settle(clock, order(base, ACME, 'flaky-1'));
    while (provider.attempts === calls) await clock.advanceAsync(1);
    calls = provider.attempts;
    provider.setKnobs({ errorRate: 0 });
    const answer = await placed;
    expect(answer.status).toBe(201);
    expect(provider.attempts).toBe(calls + 1);
    expect(provider.charges).toBe(1);
  });
});

describe('deadlines', () => {
  it('bounds payment attempts by the per-attempt timeout and all of them by the request deadline', async () => {
    const providerClock = new ManualClock(0); // never moves: the provider never answers
    const started = await startTestService(
      { requestTimeoutMs: 2_500, paymentTimeoutMs: 1_000 },
      { provider: { clock: providerClock, knobs: { latencyMs: 60_000 } } },
    );
    service = started.service;
    const provider = started.service.provider!;
    const failed = await settle(started.clock, order(started.service.url, ACME, 'slow-1'), 10);
    const seen = provider.deadlines;
    expect(failed.status).toBe(503);
    expect(failed.body.type).toMatch(/payment-unavailable$/);
    // Two full attempts of 1 s; the third only gets what is left of the 2.5 s request budget.
    expect(seen[0]).toBe(1_000);
    expect(seen[1]).toBe(1_000);
    expect(seen[2]).toBeGreaterThan(0);
    expect(seen[2]).toBeLessThan(500);
    expect(provider.attempts).toBe(3);
  });
});

describe('inventory bulkhead', () => {
  it('refuses reservations beyond its slots and queue with a 503, while catalog reads are still served', async () => {
    // A small bulkhead (2 slots, 2 queued), well inside the ingress limiter's admission (20 at first).
    const { svc, clock, base } = await start({
      inventoryConcurrency: 2,
      inventoryQueue: 2,
      tenantInventoryShare: 1,
    });
    // Warm the tenant and catalog caches, then make every store call slow (storage chaos, 1 s of manual time).
    expect((await call(base, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    await call(svc.opsUrl, 'POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'storage', enabled: true, latencyMs: 1_000 },
    });
    const checkouts = Array.from({ length: 8 }, (_, i) => order(base, ACME, `bh-${i}`));
    await until(() => svc.policies.inventoryBulkhead.queued === 2, 'the bulkhead queue to fill');
    expect(svc.policies.inventoryBulkhead.inFlight).toBe(2);
    const catalog = await call(base, 'GET', '/api/v1/products', { key: ACME });
    // Cached, and not shed: checkouts wait on a slow store, not on this process's CPU (the event loop is calm).
    expect(catalog.status).toBe(200);

    await call(svc.opsUrl, 'POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'storage', enabled: false },
    });
    const answers = await settle(clock, Promise.all(checkouts));
    const busy = answers.filter((a) => a.status === 503 && a.body.type.endsWith('/busy'));
    expect(busy.length).toBeGreaterThanOrEqual(2);
    expect(busy[0]?.headers.get('retry-after')).toBe('1');
    expect(answers.filter((a) => a.status === 201).length).toBeGreaterThanOrEqual(2);
    const metrics = await call<string>(service!.opsUrl, 'GET', '/metrics', { key: OPS });
    expect(metrics.body).toMatch(
      /ballast_bulkhead_rejections_total\{[^}]*policy="inventory-bulkhead"[^}]*\} [1-9]/,
    );
  });
});

describe('checkout recovery', () => {
  it('resumes an order left pending by a crash on the next replay, without charging twice', async () => {
    const { svc, clock, base } = await start();
    const body = { items: [{ productId: 'sku-mug', quantity: 1 }] };
    // A process reserved the stock and died before it recorded the payment: the order is pending.
    const stranded = await svc.repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: 'crash-1',
      requestHash: requestHash(body),
      items: body.items,
    });
    expect(stranded.outcome).toBe('created');

    const early = await order(base, ACME, 'crash-1');
    expect(early.status).toBe(409); // maybe still running elsewhere: come back later
    expect(early.headers.get('retry-after')).toBe('1');

    clock.advance(10_000);
    const resumed = await order(base, ACME, 'crash-1');
    expect(resumed.status).toBe(201);
    expect(resumed.body).toMatchObject({ status: 'confirmed' });
    const again = await order(base, ACME, 'crash-1');
    expect(again.body.paymentId).toBe(resumed.body.paymentId);
    expect(svc.provider!.charges).toBe(1);
  });
});

describe('adaptive load shedding at ingress', () => {
  it('keeps each class its guaranteed share: checkouts borrow the idle limit, reads and other calls keep theirs', async () => {
    const providerClock = new ManualClock(0);
    const started = await startTestService(
      // One tenant fills the ingress here on purpose: no per-tenant bulkhead share.
      { ingressInitialLimit: 13, ingressMinLimit: 13, tenantInventoryShare: 1, inventoryConcurrency: 16 },
      { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } } },
    );
    service = started.service;
    const { clock } = started;
    const base = started.service.url;
    // Thirteen checkouts held at the provider: nobody else needs the limit, so checkouts borrow all of it (their
    // reservation is half, 6).
    const held = Array.from({ length: 13 }, (_, i) => order(base, ACME, `held-${i}`));
    await until(() => started.service.provider!.attempts === 13, 'thirteen charges in flight');
    expect(started.service.policies.ingressLimiter.inFlight).toBe(13);

    // The limit is full, yet a catalog read (reservation 3) and an order listing (reservation 2) are admitted.
    expect((await call(base, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    expect((await call(base, 'GET', '/api/v1/orders', { key: ACME })).status).toBe(200);
    // Another checkout is over its class's reservation with the limit full: it waits in the queue, then is shed.
    const shed = await settle(clock, order(base, ACME, 'over-the-share'));
    expect(shed.status).toBe(503);
    expect(shed.contentType).toContain('application/problem+json');
    expect(shed.headers.get('retry-after')).toBe('1');
    expect(shed.body).toMatchObject({ title: 'Service overloaded' });
    expect(shed.body).not.toHaveProperty('priority');

    providerClock.advance(1_000);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual(Array(13).fill(201));
    const metrics = await call<string>(service.opsUrl, 'GET', '/metrics', { key: OPS });
    // Shed after waiting in the limiter's queue: counted as a rejection of the ingress limiter, on its route.
    expect(metrics.body).toMatch(
      /ballast_policy_rejections_total\{[^}]*policy="ingress",reason="queue-timeout"\} 1/,
    );
    expect(metrics.body).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*http_request_method="POST"[^}]*http_response_status_code="503"[^}]*http_route="\/api\/v1\/orders"|http_server_request_duration_seconds_count\{[^}]*http_request_method="POST"[^}]*http_route="\/api\/v1\/orders"[^}]*http_response_status_code="503"/,
    );
  });
});

describe('checkouts admitted at the door only as fast as they complete', () => {
  it('holds checkouts past the critical limit at the door until one ends, and still serves reads on a calm loop', async () => {
    const providerClock = new ManualClock(0);
    const started = await startTestService(
      { ingressCriticalLimit: 2, tenantInventoryShare: 1 },
      { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } } },
    );
    service = started.service;
    const base = started.service.url;
    const ingress = started.service.policies.ingressLimiter;
    const held = [order(base, ACME, 'cap-1'), order(base, ACME, 'cap-2')];
    await until(() => started.service.provider!.attempts === 2, 'two charges in flight');
    // The third waits at the door: it was never parsed, and the bulkhead never saw it.
    const third = order(base, ACME, 'cap-3');
    await until(() => ingress.queuedOf('critical') === 1, 'the third checkout to wait at the door');
    expect(ingress.inFlightByPriority.critical).toBe(2);
    expect(started.service.policies.inventoryBulkhead.inFlight).toBe(0);
    // A read is not queued behind the waiting checkout, nor shed while the event loop has CPU to spare.
    expect((await call(base, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);

    providerClock.advance(1_000);
    await until(() => started.service.provider!.attempts === 3, 'the third charge');
    providerClock.advance(1_000);
    expect((await Promise.all([...held, third])).map((a) => a.status)).toEqual([201, 201, 201]);
    expect(ingress.queuedOf('critical')).toBe(0);
  });
});

describe("a tenant's checkouts beyond its share", () => {
  it('are refused at the door with a 429, before express and the checkout, while another tenant checks out', async () => {
    const providerClock = new ManualClock(0);
    // A tenant may run half of the bulkhead's 4 slots and 2 places at once (3 checkouts); none may wait for them.
    const started = await startTestService(
      { tenantCheckoutQueue: 0 },
      { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } } },
    );
    service = started.service;
    const base = started.service.url;
    const held = Array.from({ length: 3 }, (_, i) => order(base, ACME, `share-${i}`));
    await until(() => started.service.provider!.attempts === 3, 'three charges in flight');

    const over = await order(base, ACME, 'share-over');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(over.body).toMatchObject({ status: 429, title: 'Too many concurrent checkouts' });
    expect(over.body.type).toMatch(/too-many-concurrent-checkouts$/);
    // Refused by the ingress limiter's per-tenant limit (counted as the tenant's excess, not as shed load).
    const metrics = await call<string>(service.opsUrl, 'GET', '/metrics', { key: OPS });
    expect(metrics.body).toMatch(
      /ballast_policy_rejections_total\{[^}]*policy="ingress",reason="rate-limited"\} 1/,
    );
    expect(metrics.body).not.toMatch(/ballast_load_shed_total\{[^}]*priority="critical"[^}]*\} [1-9]/);

    // Another tenant's checkout is admitted meanwhile.
    const other = order(base, GLOBEX, 'share-other');
    await until(() => started.service.provider!.attempts === 4, "the other tenant's charge in flight");
    providerClock.advance(1_000);
    expect((await Promise.all([...held, other])).map((a) => a.status)).toEqual([201, 201, 201, 201]);
    // The share frees as checkouts end.
    const after = order(base, ACME, 'share-after');
    await until(() => started.service.provider!.attempts === 5, 'the next charge in flight');
    providerClock.advance(1_000);
    expect((await after).status).toBe(201);
  });

  it("wait at the door for one of the tenant's own checkouts to end, up to the bound, then get 429", async () => {
    const providerClock = new ManualClock(0);
    // The defaults: 3 checkouts per tenant at once, 3 more waiting for one of them to end (at most 100 ms).
    const started = await startTestService(
      {},
      { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } } },
    );
    service = started.service;
    const base = started.service.url;
    const ingress = started.service.policies.ingressLimiter;
    const held = Array.from({ length: 3 }, (_, i) => order(base, ACME, `burst-${i}`));
    await until(() => started.service.provider!.attempts === 3, 'three charges in flight');
    const waiting = Array.from({ length: 3 }, (_, i) => order(base, ACME, `burst-wait-${i}`));
    await until(() => ingress.tenantQueued === 3, 'three checkouts waiting at the door');
    // Beyond the bound: 429 at once, as without the wait.
    expect((await order(base, ACME, 'burst-over')).status).toBe(429);

    // The tenant's checkouts end: each frees a place for a waiter, in arrival order.
    providerClock.advance(1_000);
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([201, 201, 201]);
    await until(() => started.service.provider!.attempts === 6, 'the waiters admitted');
    expect(ingress.tenantQueued).toBe(0);
    providerClock.advance(1_000);
    expect((await Promise.all(waiting)).map((a) => a.status)).toEqual([201, 201, 201]);

    // A wait that runs out is a 429 of the tenant's share, as an immediate refusal is.
    const next = Array.from({ length: 3 }, (_, i) => order(base, ACME, `burst-next-${i}`));
    await until(() => started.service.provider!.attempts === 9, 'three charges in flight');
    const late = order(base, ACME, 'burst-late');
    await until(() => ingress.tenantQueued === 1, 'a checkout waiting at the door');
    started.clock.advance(100);
    expect((await late).status).toBe(429);
    providerClock.advance(1_000);
    expect((await Promise.all(next)).map((a) => a.status)).toEqual([201, 201, 201]);
  });
});

describe('per-tenant rate limits by plan', () => {
  it('gives the free plan fewer requests than pro, with RateLimit headers and Retry-After', async () => {
    const { base } = await start({ freeRequestsPerMinute: 20, proRequestsPerMinute: 200 });
    let allowed = 0;
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 100 && !limited; i++) {
      const answer = await call(base, 'GET', '/api/v1/flags', { key: GLOBEX });
      if (answer.status === 429) limited = answer;
      else {
        expect(answer.status).toBe(200);
        expect(answer.headers.get('ratelimit-limit')).toBe('20');
        allowed++;
      }
    }
    expect(limited).toBeDefined();
    expect(allowed).toBe(20); // the clock stands still: exactly the plan's minute, no refill
    expect(limited!.contentType).toContain('application/problem+json');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited!.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited!.body).toMatchObject({ status: 429, title: 'Too many requests' });

    // The pro tenant, at the same moment, is still well within its plan.
    for (let i = 0; i < allowed + 5; i++) {
      const answer = await call(base, 'GET', '/api/v1/flags', { key: ACME });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-limit')).toBe('200');
    }
  });
});

describe('feature flags follow the checkout error budget', () => {
  it('switches recommendations off while the budget is exhausted and back on when it recovers', async () => {
    const { svc, clock, base } = await start();
    const flag = async () =>
      (
        await call<{ flags: { name: string; enabled: boolean; reason: string }[] }>(
          base,
          'GET',
          '/api/v1/flags',
          {
            key: ACME,
          },
        )
      ).body.flags.find((f) => f.name === 'recommendations');
    expect((await flag())?.enabled).toBe(true);

    // Three days of good checkouts, then real failed ones burn the budget: the provider is down. (Early in a
    // window the engine projects the observed traffic over the whole period, so the history matters.)
    for (let i = 0; i < 20; i++) expect((await settle(clock, order(base, ACME, `ok-${i}`))).status).toBe(201);
    clock.advance(3 * 86_400_000);
    expect(svc.slos.policy('checkout-availability')).toBe('ok');
    svc.provider!.setKnobs({ down: true });
    for (let i = 0; i < 3; i++)
      expect((await settle(clock, order(base, ACME, `burn-${i}`))).status).toBe(503);
    expect(svc.slos.policy('checkout-availability')).toBe('exhausted');

    const off = await flag();
    expect(off).toMatchObject({ enabled: false, reason: 'error budget of checkout-availability exhausted' });
    const page = await call<ApiProduct>(base, 'GET', '/api/v1/products/sku-mug', { key: ACME });
    expect(page.body.recommendations).toBeUndefined();

    // The bad events age out of the 28-day window: the budget is back, and so is the flag.
    svc.provider!.setKnobs({ down: false });
    clock.advance(29 * 86_400_000);
    expect(svc.slos.policy('checkout-availability')).toBe('ok');
    expect((await flag())?.enabled).toBe(true);
    const again = await call<ApiProduct>(base, 'GET', '/api/v1/products/sku-mug', { key: ACME });
    expect(again.body.recommendations?.length).toBeGreaterThan(0);
  });
});

describe('order events', () => {
  it('delivers every event after the broker comes back, and /readyz reports the outage', async () => {
    const { svc, clock, base } = await start();
    const broker = svc.events.broker as InMemoryBroker;
    const seen: EventEnvelope[] = [];
    await broker.subscribe({ queue: 'test.tap', topics: ['order.#'] }, ({ message }) => {
      seen.push(message);
      return Promise.resolve();
    });

    broker.disconnect(new Error('broker down for the test'));
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const placed = await settle(clock, order(base, ACME, `outage-${i}`));
      expect(placed.status).toBe(201); // checkout does not depend on the broker: events wait in the outbox
      ids.push(placed.body.id);
    }
    await clock.advanceAsync(5_000);
    expect((await svc.repo.outboxStats()).depth).toBe(10);
    const degraded = await call<{ status: string; checks: Record<string, { ok: boolean }> }>(
      base,
      'GET',
      '/readyz',
    );
    expect(degraded.status).toBe(200); // the broker is reported, not a reason to leave the load balancer
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.checks.broker?.ok).toBe(false);

    broker.reconnect();
    await drainOutbox(svc, clock);
    for (const id of ids) {
      expect(
        seen
          .filter((e) => e.aggregateId === id)
          .map((e) => e.type)
          .sort(),
      ).toEqual(['order.confirmed', 'order.created']);
    }
    // Every confirmed order was fulfilled once, by event id.
    await settle(clock, Promise.resolve());
    expect(await svc.repo.countShipments('acme')).toBe(5);
    expect((await call(base, 'GET', '/readyz')).status).toBe(200);
    const report = svc.slos.report().slos.find((s) => s.name === 'order-event-freshness');
    expect(report?.sli).toBe(1); // 5 s of lag is within the 30 s threshold
  });

  it('dead-letters a poison message and exports the DLQ depth', async () => {
    const { svc, clock } = await start();
    await svc.events.broker.publish(poisonEvent('evt-poison', clock.now()));
    await settle(clock, Promise.resolve());
    const queue = svc.events.fulfilment.queue;
    expect(await svc.events.broker.deadLetterDepth(queue)).toBe(1);
    const metrics = await call<string>(service!.opsUrl, 'GET', '/metrics', { key: OPS });
    expect(metrics.body).toMatch(
      new RegExp(`retailflow_dlq_depth\\{[^}]*queue="${queue.replace('.', '\\.')}"[^}]*\\} 1`),
    );
    const [dead] = await svc.events.broker.takeDeadLetters(queue);
    expect(dead?.message?.id).toBe('evt-poison');
    expect(['poison', 'rejected']).toContain(dead?.reason); // rejected by the consumer as poison, at once
  });
});
