import { ManualClock, flushMicrotasks, setErrorHandler } from '@ballast/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDriver } from '../src/data/sqlite-driver.js';
import { SqlRepository, applyMigrations, requestHash, seedDemoData } from '../src/data/index.js';
import {
  FulfilmentConsumer,
  InMemoryBroker,
  OutboxRelay,
  PoisonMessageError,
  decodeEnvelope,
  encodeEnvelope,
  eventSchemas,
  upcast,
  type EventEnvelope,
  type RelayDeadLetteredEvent,
} from '../src/events/index.js';
import { KEYS } from './data-contract.js';
import { fakeFulfilmentStore } from './fake-fulfilment-store.js';

const envelope = (over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  id: 'e1',
  type: 'order.payment_failed',
  tenantId: 'acme',
  aggregateType: 'order',
  aggregateId: 'o1',
  occurredAt: 1,
  payload: {
    orderId: 'o1',
    status: 'payment_failed',
    totalCents: 600,
    currency: 'USD',
    paymentId: null,
    reason: 'declined: payment provider answered 402',
    items: [{ productId: 'sku-filter', name: 'Paper filters, 100', quantity: 1, unitPriceCents: 600 }],
  },
  ...over,
});

describe('envelopes carry their schema version', () => {
  it('reads an envelope written before versioning as v1 and always writes the version', () => {
    const legacy = JSON.stringify({ ...envelope(), schemaVersion: undefined });
    expect(decodeEnvelope(legacy).schemaVersion).toBe(1);
    expect((JSON.parse(encodeEnvelope(envelope({ schemaVersion: 2 }))) as EventEnvelope).schemaVersion).toBe(
      2,
    );
    expect(() => decodeEnvelope(JSON.stringify(envelope({ schemaVersion: 0 })))).toThrow(
      'event envelope has a `schemaVersion` that is not a positive integer: 0',
    );
    expect(() => decodeEnvelope(JSON.stringify({ ...envelope(), schemaVersion: '2' }))).toThrow(
      PoisonMessageError,
    );
  });
});

describe('upcasting', () => {
  it.each([
    [
      'declined: payment provider answered 402',
      { kind: 'declined', detail: 'payment provider answered 402' },
    ],
    ['unavailable: circuit open', { kind: 'unavailable', detail: 'circuit open' }],
    ['something else', { kind: 'unavailable', detail: 'something else' }],
  ])('lifts order.payment_failed v1 with reason %j to v2', (reason, failure) => {
    const v1 = envelope({ payload: { ...(envelope().payload as object), reason } });
    const v2 = upcast(v1);
    expect(v2.schemaVersion).toBe(2);
    expect((v2.payload as { failure: unknown }).failure).toEqual(failure);
    expect((v2.payload as { reason: unknown }).reason).toBe(reason); // v1 readers' field is kept
    expect(eventSchemas().validate('order.payment_failed', 2, v2.payload)).toEqual({ ok: true });
  });

  it('keeps an event already at the newest version, and refuses one newer than it knows as poison', () => {
    const current = envelope({ type: 'order.confirmed', schemaVersion: 1 });
    expect(upcast(current)).toBe(current);
    expect(() => upcast(envelope({ schemaVersion: 3 }))).toThrow(
      'event e1: order.payment_failed schema version 3 is newer than this reader knows (v2)',
    );
    expect(() => upcast(envelope({ type: 'order.shipped' }))).toThrow(
      'no schema for event type order.shipped',
    );
  });
});

describe('the relay publishes the newest version, validated', () => {
  let clock: ManualClock;
  let driver: SqliteDriver;
  let repo: SqlRepository;
  let broker: InMemoryBroker;
  let got: EventEnvelope[];
  let previous: ReturnType<typeof setErrorHandler>;
  beforeEach(async () => {
    previous = setErrorHandler(() => undefined);
    clock = new ManualClock(1_000_000);
    driver = new SqliteDriver(':memory:');
    await applyMigrations(driver, clock);
    repo = new SqlRepository(driver, { clock });
    await seedDemoData(repo, { apiKeys: KEYS });
    broker = new InMemoryBroker();
    got = [];
    await broker.subscribe({ queue: 'all', topics: ['#'] }, ({ message }) =>
      Promise.resolve(void got.push(message)),
    );
  });
  afterEach(async () => {
    setErrorHandler(previous);
    await broker.close();
    await driver.close();
  });

  const order = async (key: string) => {
    const items = [{ productId: 'sku-filter', quantity: 2 }];
    const r = await repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: key,
      requestHash: requestHash({ items }),
      items,
    });
    if (r.outcome !== 'created') throw new Error(r.outcome);
    return r.order.id;
  };

  it('sends every order event at its newest version, each matching its schema', async () => {
    const paid = await order('k1');
    const declined = await order('k2');
    await repo.recordPayment({ tenantId: 'acme', orderId: paid, payment: { ok: true, paymentId: 'ch_1' } });
    await repo.recordPayment({
      tenantId: 'acme',
      orderId: declined,
      payment: { ok: false, failure: 'declined', reason: 'payment provider answered 402' },
    });
    const relay = new OutboxRelay({ store: repo, broker, clock });
    await relay.runOnce();
    await flushMicrotasks();
    expect(got.map((e) => [e.type, e.schemaVersion])).toEqual([
      ['order.created', 1],
      ['order.created', 1],
      ['order.confirmed', 1],
      ['order.payment_failed', 2],
    ]);
    for (const e of got) {
      expect(eventSchemas().validate(e.type, e.schemaVersion!, e.payload)).toEqual({ ok: true });
    }
    expect(got[3]!.payload).toMatchObject({
      orderId: declined,
      failure: { kind: 'declined', detail: 'payment provider answered 402' },
    });
  });

  it('dead-letters in the outbox an event whose payload does not match its schema, naming the field', async () => {
    const id = await order('k1');
    const row = driver.db.prepare('SELECT id, payload FROM outbox').get() as { id: string; payload: string };
    const broken = { ...(JSON.parse(row.payload) as object), totalCents: '12.00' };
    driver.db.prepare('UPDATE outbox SET payload = ? WHERE id = ?').run(JSON.stringify(broken), row.id);
    const relay = new OutboxRelay({ store: repo, broker, clock });
    const dead: RelayDeadLetteredEvent[] = [];
    relay.onDeadLettered((e) => dead.push(e));
    const result = await relay.runOnce();
    expect(result).toMatchObject({ claimed: 1, published: 0, deadLettered: 1 });
    expect(got).toEqual([]);
    expect(dead[0]).toMatchObject({ id: row.id, reason: 'poison' });
    expect(String((dead[0]!.error as Error).message)).toBe(
      `outbox event ${row.id}: order.created v1 does not match its schema: payload/totalCents must be integer`,
    );
    expect((await repo.listDeadLettered())[0]).toMatchObject({ aggregateId: id });
  });
  it('dead-letters an event type that has no schema, saying which file to add', async () => {
    driver.db
      .prepare(
        `INSERT INTO outbox (id, tenant_id, aggregate_type, aggregate_id, type, payload, created_at, next_attempt_at)
         VALUES ('x1', 'acme', 'order', 'o1', 'order.shipped', '{}', 1, 1)`,
      )
      .run();
    const relay = new OutboxRelay({ store: repo, broker, clock });
    const dead: RelayDeadLetteredEvent[] = [];
    relay.onDeadLettered((e) => dead.push(e));
    await relay.runOnce();
    expect(got).toEqual([]);
    expect((dead[0]!.error as Error).message).toBe(
      'outbox event x1: order.shipped v1 does not match its schema: no schema for event type order.shipped ' +
        '(add events/schemas/order.shipped/v1.schema.json)',
    );
  });
});

describe('the fulfilment consumer reads tolerantly and dead-letters what it cannot read', () => {
  it('ships v1 with unknown fields, ignores other types at any version, dead-letters a newer version with the reason', async () => {
    const broker = new InMemoryBroker();
    const store = fakeFulfilmentStore();
    const shipped = store.shipped;
    const fulfilment = new FulfilmentConsumer({ broker, queue: 'fulfilment', store });
    const rejected: string[] = [];
    fulfilment.onRejected((e) => rejected.push(`${e.eventId} v${e.schemaVersion}`));
    await fulfilment.start();
    const confirmed = (id: string, over: Partial<EventEnvelope> = {}) =>
      envelope({
        id,
        type: 'order.confirmed',
        aggregateId: `o-${id}`,
        payload: { orderId: `o-${id}`, giftWrap: true },
        ...over,
      });
    await broker.publish(confirmed('legacy')); // no schemaVersion: read as v1
    await broker.publish(confirmed('newer', { schemaVersion: 2 }));
    await broker.publish(envelope({ id: 'created-v7', type: 'order.created', schemaVersion: 7 }));
    await broker.publish(confirmed('mismatch', { payload: { orderId: 'someone-else' } }));
    await broker.publish(confirmed('after'));
    await flushMicrotasks();
    expect(shipped).toEqual(['o-legacy', 'o-after']);
    expect(fulfilment.counts).toMatchObject({ fulfilled: 2, ignored: 1, rejected: 2, failed: 2 });
    expect(rejected).toEqual(['newer v2', 'mismatch v1']);
    const dead = await broker.takeDeadLetters('fulfilment');
    expect(dead.map((d) => [d.message?.id, d.reason, d.detail])).toEqual([
      [
        'newer',
        'rejected',
        'event newer: order.confirmed schema version 2 is newer than this reader knows (v1); deploy a reader that knows it, then replay the dead letter',
      ],
      [
        'mismatch',
        'rejected',
        'order.confirmed event mismatch: payload.orderId "someone-else" is not the envelope\'s aggregateId "o-mismatch"',
      ],
    ]);
    await fulfilment.stop();
    await broker.close();
  });
});
