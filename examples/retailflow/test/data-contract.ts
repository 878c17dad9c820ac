import { ManualClock } from '@ballast/core';
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { isOrderVersionConflictError, loadOrderEvents } from '../src/data/order-streams.js';
import { appendOrderEvents } from '../src/data/order-writes.js';
import { foldOrder } from '../src/orders/events.js';
import {
  type SqlRepository,
  hashApiKey,
  isInvalidCursorError,
  requestHash,
  seedDemoData,
  type Order,
  type Repository,
} from '../src/data/index.js';

/** What a contract run needs from an adapter: a fresh, migrated, empty store on a given clock. */
export interface ContractHarness {
  open(clock: ManualClock): Promise<Repository>;
  /** Cleans up after one test (e.g. drops its PostgreSQL schema). */
  dispose?(repository: Repository): Promise<void>;
}

export const KEYS = { acme: 'acme-test-key-0001', globex: 'globex-test-key-0001' } as const;

const line = (productId: string, quantity: number) => ({ productId, quantity });

/** The repository contract: every adapter must pass the same suite. */
export function repositoryContract(name: string, harness: ContractHarness): void {
  describe(`${name} repository contract`, () => {
    let clock: ManualClock;
    let repo: Repository;

    beforeEach(async () => {
      clock = new ManualClock(1_700_000_000_000);
      repo = await harness.open(clock);
      await seedDemoData(repo, { apiKeys: KEYS });
    });
    afterEach(async () => {
      await repo.close();
      await harness.dispose?.(repo);
    });

    const order = (tenantId: string, key: string, items = [line('sku-mug', 2)]) =>
      repo.createOrder({ tenantId, idempotencyKey: key, requestHash: requestHash({ items }), items });

    const created = async (tenantId: string, key: string, items = [line('sku-mug', 2)]): Promise<Order> => {
      const result = await order(tenantId, key, items);
      if (result.outcome !== 'created') throw new Error(`expected created, got ${result.outcome}`);
      return result.order;
    };

    it('seeds two tenants found by API key hash, and a catalog per tenant; seeding again keeps stock', async () => {
      const acme = await repo.findTenantByApiKeyHash(hashApiKey(KEYS.acme));
      expect(acme).toMatchObject({ id: 'acme', plan: 'pro' });
      expect(await repo.findTenantByApiKeyHash(hashApiKey(KEYS.globex))).toMatchObject({ plan: 'free' });
      expect(await repo.findTenantByApiKeyHash(hashApiKey('wrong'))).toBeUndefined();
      expect((await repo.listTenants()).map((t) => t.id)).toEqual(['acme', 'globex']);
      await created('acme', 'k1');
      await seedDemoData(repo, { apiKeys: KEYS });
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(798);
      expect((await repo.getProduct('globex', 'sku-mug'))?.stock).toBe(800);
    });

    it('creates an order in one transaction: stock reserved, order.created in the outbox, audit entry', async () => {
      const o = await created('acme', 'k1', [line('sku-mug', 2), line('sku-kettle', 1), line('sku-mug', 1)]);
      expect(o.status).toBe('pending');
      expect(o.items).toEqual([
        { productId: 'sku-mug', name: 'Stoneware mug', quantity: 3, unitPriceCents: 1800 },
        { productId: 'sku-kettle', name: 'Gooseneck kettle', quantity: 1, unitPriceCents: 6500 },
      ]);
      expect(o.totalCents).toBe(3 * 1800 + 6500);
      expect(o.createdAt).toBe(clock.now());
      expect(await repo.getOrder('acme', o.id)).toEqual(o);
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(797);
      const events = await repo.claimOutbox({ limit: 10, leaseMs: 1000 });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'order.created',
        tenantId: 'acme',
        aggregateId: o.id,
        attempts: 0,
      });
      expect(JSON.parse(events[0]!.payload)).toMatchObject({
        orderId: o.id,
        status: 'pending',
        totalCents: 11900,
      });
      const audit = await repo.listAudit('acme');
      expect(audit.items.map((a) => a.action)).toEqual(['order.created']);
      expect(audit.items[0]).toMatchObject({ actor: 'tenant:acme', targetId: o.id });
    });

    it('replays the same key and body, and reports a conflict for the same key with another body', async () => {
      const o = await created('acme', 'k1');
      expect(await order('acme', 'k1')).toEqual({ outcome: 'replayed', order: o });
      const other = await order('acme', 'k1', [line('sku-mug', 3)]);
      expect(other).toMatchObject({ outcome: 'key_conflict', order: { id: o.id } });
      expect(await repo.findOrderByIdempotencyKey('acme', 'k1')).toEqual(o);
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(798);
      expect((await repo.outboxStats()).depth).toBe(1);
    });

    it('answers a used key by what it first produced, even when the new body names an unknown product or more stock than there is', async () => {
      const o = await created('acme', 'k1');
      expect(await order('acme', 'k1', [line('sku-nope', 1)])).toMatchObject({
        outcome: 'key_conflict',
        order: { id: o.id },
      });
      expect(await order('acme', 'k1', [line('sku-scale', 151)])).toMatchObject({
        outcome: 'key_conflict',
        order: { id: o.id },
      });
      expect((await repo.listOrders('acme')).items).toHaveLength(1);
      expect((await repo.outboxStats()).depth).toBe(1);
    });

    it('creates exactly one order from concurrent duplicates of one idempotency key', async () => {
      const results = await Promise.all(Array.from({ length: 12 }, () => order('acme', 'dup')));
      const outcomes = results.map((r) => r.outcome).sort();
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'replayed')).toHaveLength(11);
      const ids = new Set(results.map((r) => ('order' in r ? r.order.id : '')));
      expect(ids.size).toBe(1);
      expect((await repo.listOrders('acme')).items).toHaveLength(1);
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(798);
      expect((await repo.outboxStats()).depth).toBe(1);
    });

    it('writes nothing for an unknown product or too little stock', async () => {
      expect(await order('acme', 'k1', [line('sku-mug', 1), line('sku-nope', 1)])).toEqual({
        outcome: 'unknown_product',
        productId: 'sku-nope',
      });
      expect(await order('acme', 'k2', [line('sku-mug', 1), line('sku-scale', 151)])).toEqual({
        outcome: 'insufficient_stock',
        productId: 'sku-scale',
        requested: 151,
        available: 150,
      });
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(800);
      expect(await repo.findOrderByIdempotencyKey('acme', 'k2')).toBeUndefined();
      expect((await repo.outboxStats()).depth).toBe(0);
      expect((await repo.listAudit('acme')).items).toHaveLength(0);
      // The key was not consumed: a corrected request under it succeeds.
      expect((await order('acme', 'k2', [line('sku-scale', 150)])).outcome).toBe('created');
    });

    it('rejects bad input with the option template', async () => {
      await expect(
        repo.createOrder({
          tenantId: 'acme',
          idempotencyKey: '',
          requestHash: 'h',
          items: [line('sku-mug', 1)],
        }),
      ).rejects.toThrow('Expected `idempotencyKey` to be a non-empty string');
      await expect(order('acme', 'k', [line('sku-mug', 0)])).rejects.toThrow(
        'Expected `items[0].quantity` to be an integer >= 1',
      );
      await expect(order('acme', 'k', [])).rejects.toThrow('Expected `items` to be a non-empty array');
    });

    it('keeps tenants apart: another tenant sees no order, and keys are per tenant', async () => {
      const a = await created('acme', 'same-key');
      const g = await created('globex', 'same-key');
      expect(a.id).not.toBe(g.id);
      expect(await repo.getOrder('globex', a.id)).toBeUndefined();
      expect((await repo.listOrders('globex')).items.map((o) => o.id)).toEqual([g.id]);
      expect(await repo.cancelOrder({ tenantId: 'globex', orderId: a.id })).toEqual({ outcome: 'not_found' });
      expect(
        await repo.recordPayment({
          tenantId: 'globex',
          orderId: a.id,
          payment: { ok: true, paymentId: 'p' },
        }),
      ).toEqual({ outcome: 'not_found' });
      expect(await repo.getProduct('globex', 'sku-nope')).toBeUndefined();
      expect((await repo.listAudit('globex')).items.every((e) => e.tenantId === 'globex')).toBe(true);
    });

    it('pages orders newest first with an opaque cursor, and rejects a forged one', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await created('acme', `p${i}`, [line('sku-filter', 1)])).id);
        if (i !== 2) clock.advance(1000); // orders 2 and 3 share a timestamp: the id breaks the tie
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.listOrders('acme', { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((o) => o.id));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen[0]).toBe(ids[4]);
      expect(seen[4]).toBe(ids[0]);
      await expect(repo.listOrders('acme', { cursor: 'bm90LWEtY3Vyc29y' })).rejects.toSatisfy(
        isInvalidCursorError,
      );
      await expect(repo.listOrders('acme', { limit: 0 })).rejects.toThrow('Expected `limit`');
      const products = await repo.listProducts('acme', { limit: 4 });
      expect(products.items.map((p) => p.id)).toEqual([
        'sku-espresso',
        'sku-filter',
        'sku-grinder',
        'sku-kettle',
      ]);
      const rest = await repo.listProducts('acme', { limit: 4, cursor: products.nextCursor! });
      expect(rest).toMatchObject({ items: [{ id: 'sku-mug' }, { id: 'sku-scale' }], nextCursor: null });
    });

    it('records a payment once: confirmed, or failed with the stock given back', async () => {
      const ok = await created('acme', 'ok');
      const paid = await repo.recordPayment({
        tenantId: 'acme',
        orderId: ok.id,
        payment: { ok: true, paymentId: 'pay_1' },
      });
      expect(paid).toMatchObject({ outcome: 'updated', order: { status: 'confirmed', paymentId: 'pay_1' } });
      expect(
        await repo.recordPayment({
          tenantId: 'acme',
          orderId: ok.id,
          payment: { ok: false, failure: 'declined', reason: 'x' },
        }),
      ).toMatchObject({ outcome: 'unchanged', order: { status: 'confirmed' } });

      const bad = await created('acme', 'bad');
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(796);
      const failed = await repo.recordPayment({
        tenantId: 'acme',
        orderId: bad.id,
        payment: { ok: false, failure: 'declined', reason: 'card declined' },
      });
      expect(failed).toMatchObject({
        saga: 'completed',
        order: {
          status: 'payment_failed',
          paymentFailure: 'declined',
          statusReason: 'declined: card declined',
        },
      });
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(798);
      const types = (await repo.claimOutbox({ limit: 10, leaseMs: 1000 })).map((e) => e.type);
      expect(types).toEqual(['order.created', 'order.confirmed', 'order.created', 'order.payment_failed']);
    });

    it('cancels with a soft delete, an event and an audit entry, giving stock back once', async () => {
      const o = await created('acme', 'c1');
      await repo.recordPayment({ tenantId: 'acme', orderId: o.id, payment: { ok: true, paymentId: 'ch_1' } });
      const result = await repo.cancelOrder({ tenantId: 'acme', orderId: o.id, reason: 'changed mind' });
      expect(result).toMatchObject({
        outcome: 'cancelled',
        saga: 'refunding',
        order: {
          status: 'cancelled',
          deletedAt: clock.now(),
          statusReason: 'changed mind',
          paymentId: 'ch_1',
        },
      });
      expect(await repo.cancelOrder({ tenantId: 'acme', orderId: o.id })).toMatchObject({
        outcome: 'already_cancelled',
      });
      expect((await repo.getProduct('acme', 'sku-mug'))?.stock).toBe(800);
      expect((await repo.getOrder('acme', o.id))?.status).toBe('cancelled');
      expect((await repo.listOrders('acme')).items).toHaveLength(0);
      expect((await repo.listOrders('acme', { includeCancelled: true })).items).toHaveLength(1);
      const events = await repo.claimOutbox({ limit: 10, leaseMs: 1000 });
      expect(events.map((e) => e.type)).toEqual(['order.created', 'order.confirmed', 'order.cancelled']);
      const audit = (await repo.listAudit('acme')).items;
      expect(audit.map((a) => a.action)).toEqual(['order.cancelled', 'order.confirmed', 'order.created']);
      // Numbered within the tenant, one after the other.
      const top = audit[0]!.seq;
      expect(audit.map((a) => a.seq)).toEqual([top, top - 1, top - 2]);
    });

    it('claims outbox events under a lease, retries them later, dead-letters and requeues them', async () => {
      await created('acme', 'e1');
      await created('acme', 'e2');
      const [first, second] = await repo.claimOutbox({ limit: 10, leaseMs: 5000 });
      expect(first && second).toBeTruthy();
      expect(await repo.claimOutbox({ limit: 10, leaseMs: 5000 })).toEqual([]); // leased
      clock.advance(2000);
      expect(await repo.outboxStats()).toEqual({
        depth: 2,
        lagMs: 2000,
        oldestCreatedAt: clock.now() - 2000,
        deadLettered: 0,
      });
      await repo.markFailed(first!.id, 'nacked', clock.now() + 1000);
      await repo.markDeadLettered(second!.id, 'poison');
      expect(await repo.claimOutbox({ limit: 10, leaseMs: 5000 })).toEqual([]); // not due yet
      clock.advance(1000);
      const again = await repo.claimOutbox({ limit: 10, leaseMs: 5000 });
      expect(again).toMatchObject([{ id: first!.id, attempts: 1, lastError: 'nacked' }]);
      await repo.markPublished([first!.id]);
      expect(await repo.outboxStats()).toMatchObject({
        depth: 0,
        lagMs: 0,
        oldestCreatedAt: null,
        deadLettered: 1,
      });
      expect(await repo.listDeadLettered()).toMatchObject([{ id: second!.id, lastError: 'poison' }]);
      expect(await repo.requeueDeadLettered(second!.id)).toBe(true);
      expect(await repo.requeueDeadLettered(second!.id)).toBe(false);
      const requeued = await repo.claimOutbox({ limit: 10, leaseMs: 5000 });
      expect(requeued).toMatchObject([{ id: second!.id, attempts: 0 }]);
      await repo.releaseClaims([second!.id]);
      expect(await repo.claimOutbox({ limit: 1, leaseMs: 5000 })).toHaveLength(1);
      // Pruning removes published events only, and only those published before the cut-off.
      expect(await repo.pruneOutbox(clock.now())).toBe(0);
      clock.advance(1);
      expect(await repo.pruneOutbox(clock.now())).toBe(1);
      expect(await repo.outboxStats()).toMatchObject({ depth: 1, deadLettered: 0 });
    });

    it('hands each outbox event to only one of two concurrent claimers', async () => {
      for (let i = 0; i < 6; i++) await created('acme', `r${i}`, [line('sku-filter', 1)]);
      const [a, b] = await Promise.all([
        repo.claimOutbox({ limit: 4, leaseMs: 5000 }),
        repo.claimOutbox({ limit: 4, leaseMs: 5000 }),
      ]);
      const ids = [...a, ...b].map((e) => e.id);
      expect(ids).toHaveLength(6);
      expect(new Set(ids).size).toBe(6);
    });

    it('fulfils a confirmed order once per event id, and skips orders that are not confirmed', async () => {
      const o = await created('acme', 'f1');
      const input = { consumer: 'fulfilment', eventId: 'evt-1', tenantId: 'acme', orderId: o.id };
      expect(await repo.fulfilOrder(input)).toBe('skipped'); // still pending
      expect(await repo.isProcessed('fulfilment', 'evt-1')).toBe(true);
      await repo.recordPayment({ tenantId: 'acme', orderId: o.id, payment: { ok: true, paymentId: 'p1' } });
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, () => repo.fulfilOrder({ ...input, eventId: 'evt-2' })),
      );
      expect(outcomes.filter((x) => x === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((x) => x === 'duplicate')).toHaveLength(5);
      expect(await repo.countShipments()).toBe(1);
      expect(await repo.countShipments('globex')).toBe(0);
      expect((await repo.getOrder('acme', o.id))?.status).toBe('fulfilled');
      expect(await repo.cancelOrder({ tenantId: 'acme', orderId: o.id })).toMatchObject({
        outcome: 'not_cancellable',
      });
    });

    it('stores feature-flag overrides per tenant and globally, audited', async () => {
      await repo.setFlagOverride({ tenantId: null, flag: 'recommendations', enabled: false, actor: 'admin' });
      await repo.setFlagOverride({
        tenantId: 'acme',
        flag: 'recommendations',
        enabled: true,
        actor: 'admin',
      });
      expect(await repo.listFlagOverrides('acme')).toMatchObject([
        { tenantId: 'acme', flag: 'recommendations', enabled: true },
        { tenantId: null, flag: 'recommendations', enabled: false },
      ]);
      expect(await repo.listFlagOverrides('globex')).toMatchObject([{ tenantId: null, enabled: false }]);
      await repo.setFlagOverride({
        tenantId: 'acme',
        flag: 'recommendations',
        enabled: null,
        actor: 'admin',
      });
      expect(await repo.listFlagOverrides('acme')).toHaveLength(1);
      const audit = await repo.listAudit('acme', { includeSystem: true });
      expect(audit.items.map((a) => [a.tenantId, a.action])).toEqual([
        ['acme', 'flag.override'],
        ['acme', 'flag.override'],
        [null, 'flag.override'],
      ]);
      expect((await repo.listAudit('acme')).items).toHaveLength(2);
    });

    it('appends admin audit entries and answers health checks', async () => {
      const entry = await repo.appendAudit({
        tenantId: null,
        actor: 'admin',
        action: 'chaos.set',
        targetType: 'chaos',
        targetId: 'payments',
        details: { errorRate: 0.5 },
      });
      expect(entry).toMatchObject({ tenantId: null, at: clock.now(), details: { errorRate: 0.5 } });
      await expect(repo.health()).resolves.toBeUndefined();
    });

    it('keeps each order as a stream of versioned events, and publishes the public ones with the event id', async () => {
      const o = await created('acme', 's1');
      await repo.recordPayment({ tenantId: 'acme', orderId: o.id, payment: { ok: true, paymentId: 'p1' } });
      clock.advance(5);
      await repo.cancelOrder({ tenantId: 'acme', orderId: o.id });
      await repo.recordCompensation({ tenantId: 'acme', orderId: o.id, chargeId: 'p1' });
      const events = await repo.orderEvents('acme', o.id);
      expect(events.map((e) => [e.version, e.type])).toEqual([
        [1, 'order.created'],
        [2, 'order.confirmed'],
        [3, 'order.cancelled'],
        [4, 'order.refunded'],
      ]);
      expect(events[3]).toMatchObject({ actor: 'system', data: { chargeId: 'p1' }, at: clock.now() });
      const published = await repo.claimOutbox({ limit: 10, leaseMs: 1000 });
      // The outbox carries the published events only, each under its event's id (consumers deduplicate on it).
      expect(published.map((e) => [e.id, e.type])).toEqual(
        events.slice(0, 3).map((e) => [e.eventId, e.type]),
      );
      expect(JSON.parse(published[2]!.payload)).toEqual({
        orderId: o.id,
        status: 'cancelled',
        totalCents: 3600,
        currency: 'USD',
        paymentId: 'p1',
        reason: 'cancelled by tenant',
        items: o.items,
      });
      expect(await repo.orderEvents('acme', 'no-such-order')).toEqual([]);
      expect(await repo.orderEvents('globex', o.id)).toEqual([]);
    });

    it('fails a conflicting append with a typed error and writes nothing of it', async () => {
      const o = await created('acme', 'v1');
      const driver = (repo as SqlRepository).driver;
      const state = await driver.read(async (s) => foldOrder(await loadOrderEvents(s, 'acme', o.id)));
      const append = (paymentId: string) =>
        driver.transaction((s) =>
          appendOrderEvents(s, {
            tenantId: 'acme',
            orderId: o.id,
            state,
            events: [{ type: 'order.confirmed', data: { paymentId } }],
            at: clock.now(),
            actor: 'test',
            newId: randomUUID,
          }),
        );
      await append('first');
      const error: unknown = await append('second').catch((e: unknown) => e);
      expect(isOrderVersionConflictError(error)).toBe(true);
      expect(error).toMatchObject({ tenantId: 'acme', orderId: o.id, expectedVersion: 1 });
      expect((await repo.orderEvents('acme', o.id)).map((e) => e.type)).toEqual([
        'order.created',
        'order.confirmed',
      ]);
      expect(await repo.getOrder('acme', o.id)).toMatchObject({ status: 'confirmed', paymentId: 'first' });
      expect((await repo.outboxStats()).depth).toBe(2);
    });

    it('settles a cancellation racing the payment record into one consistent order, whichever wins', async () => {
      for (let i = 0; i < 4; i++) {
        const o = await created('acme', `race-${i}`, [line('sku-kettle', 1)]);
        const [cancel, paid] = await Promise.all([
          repo.cancelOrder({ tenantId: 'acme', orderId: o.id }),
          repo.recordPayment({ tenantId: 'acme', orderId: o.id, payment: { ok: true, paymentId: `p${i}` } }),
        ]);
        expect(paid.outcome).toBe('updated');
        expect(['cancelled', 'cancel_requested']).toContain(cancel.outcome);
        // Either way the order ends cancelled with its charge recorded, and the saga refunds it.
        expect(await repo.getOrder('acme', o.id)).toMatchObject({ status: 'cancelled', paymentId: `p${i}` });
        const [saga] = (await repo.listOpenSagas({ updatedBefore: Infinity })).filter(
          (s) => s.order.id === o.id,
        );
        expect(saga?.step).toBe('refunding');
      }
      expect((await repo.getProduct('acme', 'sku-kettle'))?.stock).toBe(300);
      expect(await repo.listReservations('acme')).toEqual([]);
    });

    it('settles a fulfilment racing a cancellation: shipped and not cancellable, or cancelled and skipped', async () => {
      for (let i = 0; i < 4; i++) {
        const o = await created('acme', `ship-${i}`, [line('sku-grinder', 1)]);
        await repo.recordPayment({
          tenantId: 'acme',
          orderId: o.id,
          payment: { ok: true, paymentId: `s${i}` },
        });
        const [shipped, cancel] = await Promise.all([
          repo.fulfilOrder({ consumer: 'fulfilment', eventId: `race-${i}`, tenantId: 'acme', orderId: o.id }),
          repo.cancelOrder({ tenantId: 'acme', orderId: o.id }),
        ]);
        const status = (await repo.getOrder('acme', o.id))?.status;
        if (shipped === 'fulfilled') {
          expect([status, cancel.outcome]).toEqual(['fulfilled', 'not_cancellable']);
        } else {
          expect([shipped, status, cancel.outcome]).toEqual(['skipped', 'cancelled', 'cancelled']);
        }
      }
      expect(await repo.rebuildOrderProjections({ dryRun: true })).toMatchObject({ drift: 0 });
    });

    it('rebuilds the projections from the events: the same orders, reservations and sagas as live', async () => {
      const pending = await created('acme', 'p1', [line('sku-mug', 1), line('sku-kettle', 2)]);
      const paid = await created('acme', 'p2');
      await repo.recordPayment({
        tenantId: 'acme',
        orderId: paid.id,
        payment: { ok: true, paymentId: 'pay-2' },
      });
      const unknown = await created('acme', 'p3');
      await repo.recordPayment({
        tenantId: 'acme',
        orderId: unknown.id,
        payment: { ok: false, failure: 'unavailable', reason: 'timeout' },
      });
      const asked = await created('globex', 'p4');
      await repo.cancelOrder({ tenantId: 'globex', orderId: asked.id });
      const shipped = await created('acme', 'p5');
      await repo.recordPayment({
        tenantId: 'acme',
        orderId: shipped.id,
        payment: { ok: true, paymentId: 'pay-5' },
      });
      await repo.fulfilOrder({
        consumer: 'fulfilment',
        eventId: 'e5',
        tenantId: 'acme',
        orderId: shipped.id,
      });

      const live = async () => ({
        acme: (await repo.listOrders('acme', { includeCancelled: true, limit: 100 })).items,
        globex: (await repo.listOrders('globex', { includeCancelled: true, limit: 100 })).items,
        reservations: [...(await repo.listReservations('acme')), ...(await repo.listReservations('globex'))],
        sagas: await repo.listOpenSagas({ updatedBefore: Infinity }),
      });
      const before = await live();
      expect(before.reservations.map((r) => [r.orderId, r.productId, r.quantity])).toEqual(
        expect.arrayContaining([
          [pending.id, 'sku-kettle', 2],
          [pending.id, 'sku-mug', 1],
          [paid.id, 'sku-mug', 2],
          [asked.id, 'sku-mug', 2],
          [shipped.id, 'sku-mug', 2],
        ]),
      );
      expect(before.reservations).toHaveLength(5);
      expect(before.sagas.map((s) => [s.order.id, s.step, s.cancelRequested]).sort()).toEqual(
        [
          [pending.id, 'charging', false],
          [unknown.id, 'voiding', false],
          [asked.id, 'charging', true],
        ].sort(),
      );
      expect(await repo.rebuildOrderProjections({ dryRun: true })).toMatchObject({ drift: 0, dryRun: true });

      // A projection that went wrong (a bug, a hand edit) is put right by the rebuild.
      const driver = (repo as SqlRepository).driver;
      await driver.transaction(async (s) => {
        await s.run("UPDATE orders SET status = 'confirmed' WHERE id = ?", [pending.id]);
        await s.run('DELETE FROM stock_reservations WHERE order_id = ?', [paid.id]);
        await s.run('DELETE FROM checkout_sagas WHERE order_id = ?', [unknown.id]);
      });
      expect((await repo.rebuildOrderProjections({ dryRun: true })).drift).toBe(4);
      expect((await repo.getOrder('acme', pending.id))?.status).toBe('confirmed'); // a dry run changes nothing
      expect(await repo.rebuildOrderProjections()).toEqual({
        orders: 5,
        events: 10,
        openSagas: 3,
        reservations: 5,
        drift: 4,
        dryRun: false,
      });
      expect(await live()).toEqual(before);
      expect((await repo.rebuildOrderProjections()).drift).toBe(0);
    });

    it('gives an order written before order streams existed its stream on first use', async () => {
      const driver = (repo as SqlRepository).driver;
      const legacy = async (id: string, status: string, paymentId: string | null) => {
        await driver.transaction(async (s) => {
          await s.run(
            `INSERT INTO orders (tenant_id, id, idempotency_key, request_hash, status, total_cents, currency, payment_id,
               status_reason, created_at, updated_at, deleted_at)
             VALUES ('acme', ?, ?, 'h', ?, 1800, 'USD', ?, NULL, ?, ?, NULL)`,
            [id, `legacy-${id}`, status, paymentId, clock.now() - 1000, clock.now() - 500],
          );
          await s.run(
            `INSERT INTO order_items (tenant_id, order_id, line, product_id, name, quantity, unit_price_cents)
             VALUES ('acme', ?, 0, 'sku-mug', 'Stoneware mug', 1, 1800)`,
            [id],
          );
        });
      };
      await legacy('old-pending', 'pending', null);
      await legacy('old-paid', 'confirmed', 'pay-old');
      // Rows without a stream are left alone by a rebuild.
      expect(await repo.rebuildOrderProjections({ dryRun: true })).toMatchObject({ orders: 0, drift: 0 });

      const paid = await repo.recordPayment({
        tenantId: 'acme',
        orderId: 'old-pending',
        payment: { ok: true, paymentId: 'pay-new' },
      });
      expect(paid).toMatchObject({
        outcome: 'updated',
        order: { status: 'confirmed', paymentId: 'pay-new' },
      });
      const events = await repo.orderEvents('acme', 'old-pending');
      expect(events.map((e) => [e.version, e.type, e.actor])).toEqual([
        [1, 'order.created', 'system:import'],
        [2, 'order.confirmed', 'system'],
      ]);
      expect(
        await repo.fulfilOrder({
          consumer: 'fulfilment',
          eventId: 'e-old',
          tenantId: 'acme',
          orderId: 'old-paid',
        }),
      ).toBe('fulfilled');
      expect((await repo.orderEvents('acme', 'old-paid')).map((e) => e.type)).toEqual([
        'order.created',
        'order.confirmed',
        'order.fulfilled',
      ]);
      // Only the new change is published: consumers saw the old ones when they happened.
      expect((await repo.claimOutbox({ limit: 10, leaseMs: 1000 })).map((e) => e.type)).toEqual([
        'order.confirmed',
      ]);
      expect(await repo.listReservations('acme')).toHaveLength(2);
      expect(await repo.rebuildOrderProjections({ dryRun: true })).toMatchObject({ orders: 2, drift: 0 });
    });
  });
}
