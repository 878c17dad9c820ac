import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '@ballast/core';
import type { EventEnvelope } from '../src/events/index.js';
import type { RetailFlow } from '../src/service.js';
import {
  ACME,
  ADMIN,
  OPS,
  GLOBEX,
  call,
  drainOutbox,
  order,
  startTestService,
  type ApiOrder,
  type ApiPage,
  type ApiProduct,
} from './helpers.js';

// End to end over HTTP on embedded defaults: SQLite in memory, in-process broker, in-memory limits, and the payment
// simulator on its own port. Time is a ManualClock.
let service: RetailFlow;
let clock: ManualClock;
let base: string;
let ops: string;
/** Every order event the broker delivered, read by a tap queue bound to `order.#`. */
const delivered: EventEnvelope[] = [];

beforeAll(async () => {
  ({ service, clock } = await startTestService());
  base = service.url;
  ops = service.opsUrl;
  await service.events.broker.subscribe({ queue: 'test.tap', topics: ['order.#'] }, ({ message }) => {
    delivered.push(message);
    return Promise.resolve();
  });
});
afterAll(() => service.shutdown());

describe('authentication and problem details', () => {
  it('answers 401 problem+json without a key or with an unknown one', async () => {
    for (const key of [undefined, 'rf_nobody_key']) {
      const answer = await call(base, 'GET', '/api/v1/products', key === undefined ? {} : { key });
      expect(answer.status).toBe(401);
      expect(answer.contentType).toContain('application/problem+json');
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
      expect(answer.body).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
  });

  it('answers unknown routes with a 404 problem', async () => {
    const answer = await call(base, 'GET', '/api/v1/nope', { key: ACME });
    expect(answer.status).toBe(404);
    expect(answer.body.type).toMatch(/problems\/not-found$/);
  });
});

describe('catalog', () => {
  it('lists and gets the tenant products, with recommendations while the flag is on', async () => {
    const list = await call<ApiPage<ApiProduct>>(base, 'GET', '/api/v1/products', { key: ACME });
    expect(list.status).toBe(200);
    expect(list.body.items.map((p) => p.id)).toContain('sku-mug');
    const one = await call<ApiProduct>(base, 'GET', '/api/v1/products/sku-mug', { key: ACME });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: 'sku-mug', currency: 'USD' });
    expect(one.body.recommendations?.length).toBeGreaterThan(0);
    expect(one.body.recommendations?.map((r) => r.id)).not.toContain('sku-mug');
  });

  it('answers 404 for an unknown product and 400 for a bad page size', async () => {
    expect((await call(base, 'GET', '/api/v1/products/sku-none', { key: ACME })).status).toBe(404);
    const bad = await call(base, 'GET', '/api/v1/products?limit=1000', { key: ACME });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.path).toBe('query/limit');
  });

  it('serves the last good catalog while storage fails (stale on error)', async () => {
    const warm = await call<ApiPage<ApiProduct>>(base, 'GET', '/api/v1/products', { key: GLOBEX });
    expect(warm.status).toBe(200);
    const on = await call(ops, 'POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'storage', enabled: true, errorRate: 1, latencyMs: 0 },
    });
    expect(on.status).toBe(200);
    try {
      clock.advance(60_000); // past the catalog TTL, within stale-if-error
      const stale = await call<ApiPage<ApiProduct>>(base, 'GET', '/api/v1/products', { key: GLOBEX });
      expect(stale.status).toBe(200);
      expect(stale.body.items).toEqual(warm.body.items);
      const orders = await call(base, 'GET', '/api/v1/orders', { key: GLOBEX });
      expect(orders.status).toBe(503);
    } finally {
      await call(ops, 'POST', '/admin/chaos', { key: ADMIN, body: { target: 'storage', enabled: false } });
    }
  });
});

describe('checkout', () => {
  it('fails fast while on-call has isolated the payment breaker, and recovers on reset', async () => {
    const isolated = await call<Record<string, string>>(ops, 'POST', '/admin/breakers', {
      key: ADMIN,
      body: { name: 'payment-breaker', action: 'isolate' },
    });
    expect(isolated.body).toEqual({ 'payment-breaker': 'isolated' });
    try {
      const refused = await order(base, ACME, 'co-isolated');
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ title: 'Payment provider unavailable' });
    } finally {
      const reset = await call<Record<string, string>>(ops, 'POST', '/admin/breakers', {
        key: ADMIN,
        body: { name: 'payment-breaker', action: 'reset' },
      });
      expect(reset.body).toEqual({ 'payment-breaker': 'closed' });
    }
    expect((await order(base, ACME, 'co-after-reset')).status).toBe(201);
  });

  it('creates a paid order and replays it for the same key and body', async () => {
    const first = await order(base, ACME, 'co-1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ status: 'confirmed', totalCents: 1800, currency: 'USD' });
    expect(first.body.paymentId).toMatch(/^ch_/);
    expect(first.headers.get('location')).toBe(`/api/v1/orders/${first.body.id}`);
    const again = await order(base, ACME, 'co-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
  });

  it("propagates what is left of the request's deadline to the payment provider", async () => {
    expect((await order(base, ACME, 'dl-1')).status).toBe(201);
    // The per-attempt payment timeout is tighter than the request budget: that is what the provider is told.
    expect(service.config.paymentTimeoutMs).toBeLessThan(service.config.requestTimeoutMs);
    expect(service.provider!.deadlines.at(-1)).toBe(service.config.paymentTimeoutMs);
    const tight = await call(base, 'POST', '/api/v1/orders', {
      key: ACME,
      body: { items: [{ productId: 'sku-mug', quantity: 1 }] },
      headers: { 'idempotency-key': 'dl-2', 'x-request-deadline-ms': '300' },
    });
    expect(tight.status).toBe(201);
    expect(service.provider!.deadlines.at(-1)).toBe(300);
  });

  it('answers 422 when the key is reused with another body', async () => {
    expect((await order(base, ACME, 'co-2')).status).toBe(201);
    const other = await order(base, ACME, 'co-2', [{ productId: 'sku-mug', quantity: 2 }]);
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/idempotency-key-reused$/);
  });

  it('creates exactly one order for concurrent duplicates', async () => {
    const before = service.provider!.charges;
    const answers = await Promise.all(Array.from({ length: 8 }, () => order(base, ACME, 'co-concurrent')));
    const ids = new Set(answers.map((a) => a.body.id));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
    expect(ids.size).toBe(1);
    expect(service.provider!.charges - before).toBe(1);
    const listed = await call<ApiPage<ApiOrder>>(base, 'GET', '/api/v1/orders?limit=100', { key: ACME });
    expect(listed.body.items.filter((o) => ids.has(o.id))).toHaveLength(1);
  });

  it('rejects bad input with clear 4xx problems', async () => {
    const noKey = await call(base, 'POST', '/api/v1/orders', {
      key: ACME,
      body: { items: [{ productId: 'sku-mug', quantity: 1 }] },
    });
    expect(noKey.status).toBe(400);
    expect(noKey.body.errors?.[0]?.path).toBe('header/idempotency-key');

    const invalid = await order(base, ACME, 'co-bad', [{ productId: 'sku-mug', quantity: 0, extra: true }]);
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.map((e) => e.path)).toEqual(
      expect.arrayContaining(['body/items/0/quantity', 'body/items/0']),
    );

    const malformed = await call(base, 'POST', '/api/v1/orders', {
      key: ACME,
      raw: '{"items": [',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'co-malformed' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.type).toMatch(/malformed-json$/);

    const text = await call(base, 'POST', '/api/v1/orders', {
      key: ACME,
      raw: 'items=1',
      headers: { 'content-type': 'text/plain', 'idempotency-key': 'co-text' },
    });
    expect(text.status).toBe(415);

    const huge = await order(base, ACME, 'co-huge', [{ productId: 'x'.repeat(70_000), quantity: 1 }]);
    expect(huge.status).toBe(413);

    const unknown = await order(base, ACME, 'co-unknown', [{ productId: 'sku-none', quantity: 1 }]);
    expect(unknown.status).toBe(404);
    expect((await order(base, ACME, 'co-stock-0', [{ productId: 'sku-scale', quantity: 100 }])).status).toBe(
      201,
    );
    const tooMany = await order(base, ACME, 'co-stock', [{ productId: 'sku-scale', quantity: 100 }]);
    expect(tooMany.status).toBe(409);
  });
});

describe('orders are tenant-scoped', () => {
  it("answers 404 for another tenant's order, on read and on cancel", async () => {
    const mine = await order(base, ACME, 'iso-1');
    expect(mine.status).toBe(201);
    expect((await call(base, 'GET', `/api/v1/orders/${mine.body.id}`, { key: GLOBEX })).status).toBe(404);
    expect((await call(base, 'DELETE', `/api/v1/orders/${mine.body.id}`, { key: GLOBEX })).status).toBe(404);
    const theirs = await call<ApiPage<ApiOrder>>(base, 'GET', '/api/v1/orders', { key: GLOBEX });
    expect(theirs.body.items.map((o) => o.id)).not.toContain(mine.body.id);
    expect((await call(base, 'GET', `/api/v1/orders/${mine.body.id}`, { key: ACME })).status).toBe(200);
  });

  it('cancels with a soft delete, an event and an audit entry', async () => {
    const placed = await order(base, ACME, 'cancel-1');
    const cancelled = await call<ApiOrder>(base, 'DELETE', `/api/v1/orders/${placed.body.id}`, { key: ACME });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.cancelledAt).not.toBeNull();
    const again = await call<ApiOrder>(base, 'DELETE', `/api/v1/orders/${placed.body.id}`, { key: ACME });
    expect(again.body.status).toBe('cancelled');
    // Soft delete: still readable by id, hidden from the default list.
    expect((await call(base, 'GET', `/api/v1/orders/${placed.body.id}`, { key: ACME })).status).toBe(200);
    const live = await call<ApiPage<ApiOrder>>(base, 'GET', '/api/v1/orders?limit=100', { key: ACME });
    expect(live.body.items.map((o) => o.id)).not.toContain(placed.body.id);
    const all = await call<ApiPage<ApiOrder>>(base, 'GET', '/api/v1/orders?limit=100&includeCancelled=true', {
      key: ACME,
    });
    expect(all.body.items.map((o) => o.id)).toContain(placed.body.id);

    const audit = await call<ApiPage<{ action: string; targetId: string }>>(
      base,
      'GET',
      '/api/v1/audit?limit=100',
      { key: ACME },
    );
    const actions = audit.body.items.filter((e) => e.targetId === placed.body.id).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['order.created', 'order.cancelled']));
    await drainOutbox(service, clock);
    expect(delivered.filter((e) => e.aggregateId === placed.body.id).map((e) => e.type)).toEqual([
      'order.created',
      'order.confirmed',
      'order.cancelled',
    ]);
  });
});

describe('ops endpoints', () => {
  it('answers healthz, readyz, metrics, the SLO page and the SLO JSON', async () => {
    expect((await call(base, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await call<{ status: string; checks: Record<string, { ok: boolean }> }>(
      base,
      'GET',
      '/readyz',
    );
    expect(ready.status).toBe(200);
    expect(ready.body.checks.storage?.ok).toBe(true);
    const metrics = await call<string>(ops, 'GET', '/metrics', { key: OPS });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('http_server_request_duration_seconds');
    expect(metrics.body).toContain('ballast_slo_error_budget_remaining_ratio');
    const page = await call<string>(ops, 'GET', '/slo', { key: OPS });
    expect(page.contentType).toContain('text/html');
    expect(page.body).toContain('Checkout availability');
    // Which of the two "budget left" figures to trust: the page names both and the coverage that decides.
    expect(page.body).toContain('ballast_slo_error_budget_remaining_ratio');
    expect(page.body).toContain('slo:period_error_budget_remaining:ratio');
    expect(page.body).toContain('slo:period_coverage:ratio');
    const json = await call<{ slos: { name: string }[] }>(ops, 'GET', '/api/v1/slo', { key: OPS });
    expect(json.body.slos.map((s) => s.name)).toEqual([
      'checkout-availability',
      'catalog-latency',
      'order-event-freshness',
    ]);
  });

  it('applies flag overrides per tenant, audited, and clears them', async () => {
    const flagOf = async (key: string) =>
      (
        await call<{ flags: { name: string; enabled: boolean; reason: string }[] }>(
          base,
          'GET',
          '/api/v1/flags',
          {
            key,
          },
        )
      ).body.flags.find((f) => f.name === 'recommendations');
    const set = (tenantId: string | null, enabled: boolean | null, flag = 'recommendations') =>
      call(ops, 'POST', '/admin/flags', { key: ADMIN, body: { flag, tenantId, enabled } });

    expect((await set('globex', false)).status).toBe(200);
    expect(await flagOf(GLOBEX)).toEqual({
      name: 'recommendations',
      enabled: false,
      reason: 'tenant override',
    });
    expect((await flagOf(ACME))?.enabled).toBe(true);
    clock.advance(10_000); // past the catalog cache
    const page = await call<ApiProduct>(base, 'GET', '/api/v1/products/sku-mug', { key: GLOBEX });
    expect(page.body.recommendations).toBeUndefined();
    const audit = await call<ApiPage<{ action: string }>>(base, 'GET', '/api/v1/audit', { key: GLOBEX });
    expect(audit.body.items.map((e) => e.action)).toContain('flag.override');

    expect((await set('globex', null)).status).toBe(200);
    expect(await flagOf(GLOBEX)).toMatchObject({ enabled: true, reason: 'default' });
    expect((await set(null, false, 'express-shipping')).status).toBe(200);
    expect(
      (await call<{ flags: { name: string; reason: string }[] }>(base, 'GET', '/api/v1/flags', { key: ACME }))
        .body.flags,
    ).toContainEqual({ name: 'express-shipping', enabled: false, reason: 'global override' });
    expect((await set(null, null, 'express-shipping')).status).toBe(200);

    expect((await set('globex', true, 'no-such-flag')).status).toBe(400);
    expect((await set('initech', true)).status).toBe(404);
  });

  it('switches event-loop and relay chaos like the others', async () => {
    type Chaos = Record<
      'payments' | 'storage' | 'relay' | 'eventloop',
      { enabled: boolean; latencyMs: number }
    >;
    for (const target of ['eventloop', 'relay'] as const) {
      const on = await call<Chaos>(ops, 'POST', '/admin/chaos', {
        key: ADMIN,
        body: { target, enabled: true, latencyMs: 5 },
      });
      expect(on.status).toBe(200);
      expect(on.body[target]).toMatchObject({ enabled: true, latencyMs: 5 });
      const off = await call<Chaos>(ops, 'POST', '/admin/chaos', {
        key: ADMIN,
        body: { target, enabled: false },
      });
      expect(off.body[target].enabled).toBe(false);
    }
  });

  it('discards or replays dead-lettered messages, answering and auditing each one', async () => {
    const { broker, fulfilment } = service.events;
    const queue = fulfilment.queue;
    const poison = {
      id: 'poison-v99',
      type: 'order.confirmed',
      schemaVersion: 99,
      tenantId: 'acme',
      aggregateType: 'order',
      aggregateId: 'order-from-the-future',
      occurredAt: clock.now(),
      payload: { order: { id: 'order-from-the-future' } },
    };
    const dead = async (want: number) => {
      for (let i = 0; i < 200 && (await broker.deadLetterDepth(queue)) !== want; i++) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      return broker.deadLetterDepth(queue);
    };
    await broker.publish(poison);
    expect(await dead(1)).toBe(1);

    expect(
      (await call(ops, 'POST', `/admin/dead-letters/${queue}`, { key: ACME, body: { action: 'discard' } }))
        .status,
    ).toBe(401);
    expect(
      (await call(ops, 'POST', '/admin/dead-letters/nope', { key: ADMIN, body: { action: 'discard' } }))
        .status,
    ).toBe(404);
    expect(
      (await call(ops, 'POST', `/admin/dead-letters/${queue}`, { key: ADMIN, body: { action: 'burn' } }))
        .status,
    ).toBe(400);

    type Taken = {
      remaining: number;
      messages: { eventId: string; schemaVersion: number; detail: string; body: string; replayed: boolean }[];
    };
    // Replayed, the consumer still refuses version 99: the message is back in the dead-letter queue.
    const replayed = await call<Taken>(ops, 'POST', `/admin/dead-letters/${queue}`, {
      key: ADMIN,
      body: { action: 'replay' },
    });
    expect(replayed.status).toBe(200);
    expect(replayed.body.messages).toMatchObject([
      { eventId: 'poison-v99', schemaVersion: 99, replayed: true },
    ]);
    expect(await dead(1)).toBe(1);

    const discarded = await call<Taken>(ops, 'POST', `/admin/dead-letters/${queue}`, {
      key: ADMIN,
      body: { action: 'discard', max: 5 },
    });
    expect(discarded.status).toBe(200);
    expect(discarded.body.remaining).toBe(0);
    expect(discarded.body.messages).toHaveLength(1);
    expect(discarded.body.messages[0]).toMatchObject({ eventId: 'poison-v99', replayed: false });
    expect(discarded.body.messages[0]!.detail).toContain('99');
    expect(JSON.parse(discarded.body.messages[0]!.body)).toMatchObject({
      id: 'poison-v99',
      schemaVersion: 99,
    });
    const audit = await call<
      ApiPage<{ action: string; targetId: string; details: { messages: { body: string }[] } }>
    >(base, 'GET', '/api/v1/audit', { key: GLOBEX });
    const entry = audit.body.items.find((e) => e.action === 'dead-letter.discard');
    expect(entry?.targetId).toBe(queue);
    expect(entry?.details.messages[0]!.body).toContain('poison-v99');

    // A replay whose publish fails: the message is out of the queue, so it is answered and audited with its body.
    await broker.publish(poison);
    expect(await dead(1)).toBe(1);
    const memory = broker as unknown as { disconnect(error?: unknown): void; reconnect(): void };
    memory.disconnect(new Error('broker away'));
    try {
      const failed = await call<Taken & { error: string | null }>(
        ops,
        'POST',
        `/admin/dead-letters/${queue}`,
        {
          key: ADMIN,
          body: { action: 'replay' },
        },
      );
      expect(failed.status).toBe(200);
      expect(failed.body.error).toMatch(/^replaying event poison-v99 failed: /);
      expect(failed.body.messages).toMatchObject([{ eventId: 'poison-v99', replayed: false }]);
    } finally {
      memory.reconnect();
    }
    const after = await call<ApiPage<{ action: string; details: { error: string | null } }>>(
      base,
      'GET',
      '/api/v1/audit',
      {
        key: GLOBEX,
      },
    );
    expect(after.body.items.some((e) => e.action === 'dead-letter.replay' && e.details.error !== null)).toBe(
      true,
    );
  });

  it('protects /admin/chaos with the admin key and audits changes', async () => {
    expect((await call(ops, 'GET', '/admin/chaos', { key: ACME })).status).toBe(401);
    const bad = await call(ops, 'POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'dns', enabled: true },
    });
    expect(bad.status).toBe(400);
    const set = await call<{ payments: { enabled: boolean; latencyMs: number } }>(
      ops,
      'POST',
      '/admin/chaos',
      {
        key: ADMIN,
        body: { target: 'payments', enabled: false, latencyMs: 5 },
      },
    );
    expect(set.body.payments).toMatchObject({ enabled: false, latencyMs: 5 });
    const audit = await call<ApiPage<{ action: string; actor: string }>>(base, 'GET', '/api/v1/audit', {
      key: GLOBEX,
    });
    // The audit names who pulled the lever: the static admin key here, an operator's token subject elsewhere.
    expect(audit.body.items.some((e) => e.action === 'chaos.set' && e.actor === 'admin-key')).toBe(true);
  });
});
