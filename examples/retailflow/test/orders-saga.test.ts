import { ManualClock } from '@ballast/core';
import type { CallContext, Deadline } from '@ballast/resilience';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSqliteRepository,
  requestHash,
  seedDemoData,
  type Order,
  type Repository,
} from '../src/data/index.js';
import { CheckoutSaga } from '../src/orders/saga.js';
import {
  PaymentError,
  type ChargeRequest,
  type PaymentGateway,
  type RefundRequest,
} from '../src/payments/client.js';
import type { Charge } from '../src/payments/simulator.js';

// The checkout saga (reserve → charge → confirm, compensated by release, refund or void) against a fake provider
// that behaves like a real one (idempotent charges by key; a refund refunds the key's charge or voids the key, and a
// voided key is never charged afterwards), with every interleaving the test's: charges held in flight, answers lost
// after the provider charged, processes that die between two steps, cancellations in the middle.

type Mode = 'ok' | 'decline' | 'down' | 'lost-after-charge' | 'lost-before-charge';

/** A payment provider with the real one's idempotency rules; `mode` decides how the next charges go. */
class FakeProvider implements PaymentGateway {
  mode: Mode = 'ok';
  refundsDown = false;
  /** When set, charges wait here until the test releases them (the charge is in flight). */
  hold = false;
  readonly held: (() => void)[] = [];
  readonly byKey = new Map<string, Charge>();
  readonly voided = new Set<string>();
  refunds = 0;
  #next = 0;

  async charge(request: ChargeRequest, _call: Pick<CallContext, 'signal' | 'deadline'>): Promise<Charge> {
    const mode = this.mode;
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    if (mode === 'down' || mode === 'lost-before-charge') {
      throw new PaymentError('payment provider unreachable', undefined, true);
    }
    if (mode === 'decline') throw new PaymentError('payment provider answered 402', 402, false);
    const existing = this.byKey.get(request.idempotencyKey);
    let charge = existing;
    if (!charge) {
      if (this.voided.has(request.idempotencyKey))
        throw new PaymentError('payment provider answered 409', 409, false);
      charge = {
        id: `ch_${++this.#next}`,
        amountCents: request.amountCents,
        currency: request.currency,
        reference: request.reference,
        status: 'succeeded',
      };
      this.byKey.set(request.idempotencyKey, charge);
    }
    // The provider charged, but its answer never reached the caller (a timeout): the caller cannot tell.
    if (mode === 'lost-after-charge')
      throw new PaymentError('TimeoutError: payment attempt timed out', undefined, true);
    return charge;
  }

  refund(request: RefundRequest): Promise<{ chargeId: string | null }> {
    if (this.refundsDown) return Promise.reject(new PaymentError('payment provider answered 503', 503, true));
    this.refunds++;
    this.voided.add(request.idempotencyKey);
    const charge = this.byKey.get(request.idempotencyKey);
    if (!charge) return Promise.resolve({ chargeId: null });
    this.byKey.set(request.idempotencyKey, { ...charge, status: 'refunded' });
    return Promise.resolve({ chargeId: charge.id });
  }

  release(): void {
    this.held.splice(0).forEach((go) => go());
  }

  /** Charges still standing (not refunded), by the order they reference. */
  standing(): Map<string, Charge> {
    return new Map(
      [...this.byKey.values()].filter((c) => c.status === 'succeeded').map((c) => [c.reference, c]),
    );
  }
}

/** The payment policy without retries or timers: one attempt, the test decides its outcome. */
const oneAttempt = <T>(work: (call: CallContext) => Promise<T>, deadline: Deadline | undefined): Promise<T> =>
  work({ signal: new AbortController().signal, deadline, attempt: 0 });

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

let clock: ManualClock;
let repo: Repository;
let provider: FakeProvider;
let saga: CheckoutSaga;
let keys = 0;
const STOCK = 800;

beforeEach(async () => {
  clock = new ManualClock(1_700_000_000_000);
  repo = await createSqliteRepository({ path: ':memory:', clock });
  await seedDemoData(repo, { apiKeys: { acme: 'acme-saga-key', globex: 'globex-saga-key' } });
  provider = new FakeProvider();
  saga = new CheckoutSaga(repo, oneAttempt, provider, { clock, stuckAfterMs: 10_000 });
});
afterEach(async () => {
  await saga.idle();
  await repo.close();
});

async function place(quantity = 1): Promise<Order> {
  const items = [{ productId: 'sku-mug', quantity }];
  const result = await repo.createOrder({
    tenantId: 'acme',
    idempotencyKey: `k${++keys}`,
    requestHash: requestHash({ items }),
    items,
  });
  if (result.outcome !== 'created') throw new Error(`expected created, got ${result.outcome}`);
  return result.order;
}

/** A process that dies after its charge was sent: the charge reaches the provider, the outcome is never recorded. */
async function chargeAndDie(order: Order): Promise<void> {
  const hold = provider.hold;
  provider.hold = false; // this charge is not one the test holds: it reaches the provider now
  await provider
    .charge(
      {
        amountCents: order.totalCents,
        currency: order.currency,
        reference: order.id,
        idempotencyKey: `acme:${order.id}`,
      },
      { signal: new AbortController().signal, deadline: undefined },
    )
    .catch(() => undefined);
  provider.hold = hold;
}

/** Recovery passes until every saga has completed (each pass after the stuck age). */
async function recoverAll(): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    clock.advance(10_001);
    await saga.recover();
    await saga.idle();
    if ((await repo.listOpenSagas({ updatedBefore: Infinity })).length === 0) return;
  }
  throw new Error('sagas still open after 5 recovery passes');
}

/**
 * What "consistent" means once every saga completed: a standing charge belongs to a paid order that is still paid
 * (confirmed or fulfilled, never cancelled), every paid order has its standing charge, a cancelled order's charge was
 * refunded, the stock on the shelf plus the reservations equals what was seeded, and the projections equal a
 * rebuild from the events.
 */
async function expectConsistent(): Promise<void> {
  expect(await repo.listOpenSagas({ updatedBefore: Infinity })).toEqual([]);
  const orders = (await repo.listOrders('acme', { includeCancelled: true, limit: 100 })).items;
  const byId = new Map(orders.map((o) => [o.id, o]));
  const standing = provider.standing();
  for (const [reference, charge] of standing) {
    const order = byId.get(reference);
    expect(order?.status, `charge ${charge.id} of ${reference}`).toMatch(/^(confirmed|fulfilled)$/);
    expect(order?.paymentId).toBe(charge.id);
  }
  for (const order of orders) {
    const paid = order.status === 'confirmed' || order.status === 'fulfilled';
    expect(standing.has(order.id), `order ${order.id} (${order.status})`).toBe(paid);
    expect(order.status).not.toBe('pending');
  }
  const reserved = (await repo.listReservations('acme')).reduce((sum, r) => sum + r.quantity, 0);
  expect((await repo.getProduct('acme', 'sku-mug'))!.stock + reserved).toBe(STOCK);
  expect(reserved).toBe(
    orders
      .filter((o) => o.status === 'confirmed' || o.status === 'fulfilled')
      .reduce((n, o) => n + o.items[0]!.quantity, 0),
  );
  expect(await repo.rebuildOrderProjections({ dryRun: true })).toMatchObject({ drift: 0 });
}

const types = async (order: Order) => (await repo.orderEvents('acme', order.id)).map((e) => e.type);

describe('the checkout saga', () => {
  it('confirms a charge that succeeds, and leaves nothing to compensate', async () => {
    const order = await saga.charge(await place(), undefined);
    expect(order).toMatchObject({ status: 'confirmed', paymentId: 'ch_1' });
    expect(await types(order)).toEqual(['order.created', 'order.confirmed']);
    expect(provider.refunds).toBe(0);
    await expectConsistent();
  });

  it('releases the stock of a declined charge without a void (nothing was charged)', async () => {
    provider.mode = 'decline';
    const order = await saga.charge(await place(3), undefined);
    expect(order).toMatchObject({ status: 'payment_failed', paymentFailure: 'declined' });
    expect(provider.refunds).toBe(0);
    await expectConsistent();
  });

  it('voids a charge that timed out after the provider took it (a late success is refunded)', async () => {
    provider.mode = 'lost-after-charge';
    const order = await saga.charge(await place(), undefined);
    expect(order).toMatchObject({ status: 'payment_failed', paymentFailure: 'unavailable' });
    await saga.idle();
    expect(await types(order)).toEqual(['order.created', 'order.payment_failed', 'order.refunded']);
    const [refunded] = (await repo.orderEvents('acme', order.id)).slice(-1);
    expect(refunded).toMatchObject({ data: { chargeId: 'ch_1' } });
    expect(provider.byKey.get(`acme:${order.id}`)?.status).toBe('refunded');
    await expectConsistent();
  });

  it('voids the key of a charge that timed out before reaching the provider: a late arrival is refused', async () => {
    provider.mode = 'lost-before-charge';
    const order = await saga.charge(await place(), undefined);
    await saga.idle();
    expect(await types(order)).toEqual(['order.created', 'order.payment_failed', 'order.refunded']);
    // The lost request finally reaches the provider (a retry from a proxy, a slow network): it is not charged.
    provider.mode = 'ok';
    await chargeAndDie(order);
    expect(provider.standing().size).toBe(0);
    await expectConsistent();
  });

  it('cancels during an in-flight charge that then succeeds: the charge is recorded, then refunded', async () => {
    provider.hold = true;
    const order = await place(2);
    const charging = saga.charge(order, undefined);
    await flush();
    expect(provider.held).toHaveLength(1);
    expect(await repo.cancelOrder({ tenantId: 'acme', orderId: order.id })).toMatchObject({
      outcome: 'cancel_requested',
      order: { status: 'pending' },
    });
    // Asking again records nothing more; another tenant cannot even see the order.
    expect(await repo.cancelOrder({ tenantId: 'acme', orderId: order.id })).toMatchObject({
      outcome: 'cancel_requested',
    });
    expect(await repo.cancelOrder({ tenantId: 'globex', orderId: order.id })).toEqual({
      outcome: 'not_found',
    });
    provider.release();
    expect(await charging).toMatchObject({ status: 'cancelled', paymentId: 'ch_1' });
    await saga.idle();
    expect(await types(order)).toEqual([
      'order.created',
      'order.cancel_requested',
      'order.confirmed',
      'order.cancelled',
      'order.refunded',
    ]);
    await expectConsistent();
  });

  it('cancels during an in-flight charge that then times out: the order fails, is cancelled and voided', async () => {
    provider.hold = true;
    provider.mode = 'lost-after-charge';
    const order = await place();
    const charging = saga.charge(order, undefined);
    await flush();
    await repo.cancelOrder({ tenantId: 'acme', orderId: order.id });
    provider.release();
    expect(await charging).toMatchObject({ status: 'cancelled', paymentFailure: 'unavailable' });
    await saga.idle();
    expect(await types(order)).toEqual([
      'order.created',
      'order.cancel_requested',
      'order.payment_failed',
      'order.cancelled',
      'order.refunded',
    ]);
    await expectConsistent();
  });

  it('resumes a checkout whose process died after the charge, before the confirm: one charge, confirmed', async () => {
    const order = await place();
    await chargeAndDie(order);
    // A restarted instance: nothing is stuck yet (a live checkout may still be running)...
    const restarted = new CheckoutSaga(repo, oneAttempt, provider, { clock, stuckAfterMs: 10_000 });
    expect(await restarted.recover()).toEqual({ resumed: 0, compensated: 0, failed: 0 });
    // ...until the saga is older than any request: the charge is sent again under the same key.
    clock.advance(10_001);
    expect(await restarted.recover()).toEqual({ resumed: 1, compensated: 0, failed: 0 });
    expect(await repo.getOrder('acme', order.id)).toMatchObject({ status: 'confirmed', paymentId: 'ch_1' });
    expect(provider.byKey.size).toBe(1);
    await expectConsistent();
  });

  it('resumes a checkout whose process died before its charge was sent', async () => {
    const order = await place();
    clock.advance(10_001);
    expect(await saga.recover()).toMatchObject({ resumed: 1 });
    expect(await repo.getOrder('acme', order.id)).toMatchObject({ status: 'confirmed' });
    await expectConsistent();
  });

  it('voids the charge of an order cancelled while its process died mid-charge', async () => {
    const order = await place();
    await repo.cancelOrder({ tenantId: 'acme', orderId: order.id });
    await chargeAndDie(order); // the charge went through; the process never heard back
    clock.advance(10_001);
    expect(await saga.recover()).toEqual({ resumed: 0, compensated: 1, failed: 0 });
    expect(await repo.getOrder('acme', order.id)).toMatchObject({ status: 'cancelled', paymentId: null });
    expect(provider.byKey.get(`acme:${order.id}`)?.status).toBe('refunded');
    await expectConsistent();
  });

  it('keeps a compensation that failed open and finishes it on a later recovery pass', async () => {
    provider.mode = 'lost-after-charge';
    provider.refundsDown = true;
    const errors: unknown[] = [];
    saga = new CheckoutSaga(repo, oneAttempt, provider, { clock, onError: (e) => errors.push(e) });
    const order = await saga.charge(await place(), undefined);
    await saga.idle();
    expect(errors).toHaveLength(1);
    expect(await repo.listOpenSagas({ updatedBefore: Infinity })).toMatchObject([
      { order: { id: order.id }, step: 'voiding' },
    ]);
    clock.advance(10_001);
    expect(await saga.recover()).toEqual({ resumed: 0, compensated: 0, failed: 1 });
    provider.refundsDown = false;
    expect(await saga.recover()).toEqual({ resumed: 0, compensated: 1, failed: 0 });
    await expectConsistent();
  });

  it('refunds a paid order that is cancelled', async () => {
    const order = await saga.charge(await place(), undefined);
    await repo.cancelOrder({ tenantId: 'acme', orderId: order.id });
    expect(await repo.listOpenSagas({ updatedBefore: Infinity })).toMatchObject([{ step: 'refunding' }]);
    await recoverAll();
    expect(provider.byKey.get(`acme:${order.id}`)?.status).toBe('refunded');
    await expectConsistent();
  });

  it('ends consistent after random interleavings of charges, outcomes, cancellations, crashes and recoveries', async () => {
    const modes: Mode[] = ['ok', 'ok', 'decline', 'down', 'lost-after-charge', 'lost-before-charge'];
    for (let seed = 1; seed <= 12; seed++) {
      let state = seed * 7919;
      const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
      const orders: Order[] = [];
      const running: Promise<unknown>[] = [];
      for (let step = 0; step < 14; step++) {
        provider.mode = pick(modes);
        provider.refundsDown = random() < 0.3;
        const action = pick(['place', 'place', 'cancel', 'crash', 'hold', 'release', 'recover', 'fulfil']);
        const some = orders.length > 0 ? pick(orders) : undefined;
        if (action === 'place') {
          const order = await place(1 + Math.floor(random() * 3));
          orders.push(order);
          running.push(saga.charge(order, undefined).catch(() => undefined));
        } else if (action === 'cancel' && some) {
          running.push(saga.idle().then(() => repo.cancelOrder({ tenantId: 'acme', orderId: some.id })));
        } else if (action === 'crash') {
          const order = await place();
          orders.push(order);
          if (random() < 0.5) await chargeAndDie(order);
        } else if (action === 'hold') {
          provider.hold = true;
        } else if (action === 'release') {
          provider.hold = false;
          provider.release();
        } else if (action === 'recover') {
          clock.advance(10_001);
          running.push(saga.recover());
        } else if (action === 'fulfil' && some) {
          await repo.fulfilOrder({
            consumer: 'fulfilment',
            eventId: `e${seed}-${step}`,
            tenantId: 'acme',
            orderId: some.id,
          });
        }
        await flush();
      }
      provider.hold = false;
      provider.release();
      await Promise.all(running);
      provider.mode = 'ok';
      provider.refundsDown = false;
      await saga.idle();
      await recoverAll();
      await expectConsistent();
    }
  });
});
