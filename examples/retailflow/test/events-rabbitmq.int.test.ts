import { randomBytes } from 'node:crypto';
import { setErrorHandler } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteRepository, requestHash, seedDemoData } from '../src/data/index.js';
import {
  FulfilmentConsumer,
  OutboxRelay,
  PoisonMessageError,
  RabbitMqBroker,
  isBrokerUnavailableError,
  type Delivery,
  type EventEnvelope,
  type RelayOutageEvent,
} from '../src/events/index.js';
import { KEYS } from './data-contract.js';
import { fakeFulfilmentStore } from './fake-fulfilment-store.js';
import { TcpProxy } from './tcp-proxy.js';

const rabbit = testService('rabbitmq');
const run = `rf_test_${process.pid}_${randomBytes(3).toString('hex')}`;
const exchange = `${run}.events`;
const queues: string[] = [];
const queue = (name: string) => {
  const q = `${run}.${name}`;
  queues.push(q, `${q}.dlq`);
  return q;
};

const event = (id: string, type = 'order.confirmed'): EventEnvelope => ({
  id,
  type,
  tenantId: 'acme',
  aggregateType: 'order',
  aggregateId: `o-${id}`,
  occurredAt: 1_700_000_000_000,
  payload: { id },
});

/** Resolves when `predicate` holds, re-checking after each event `subscribe` reports (no timers). */
function until(subscribe: (cb: () => void) => void, predicate: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (predicate()) return resolve();
    subscribe(() => {
      if (predicate()) resolve();
    });
  });
}

/** Re-runs `probe` (a network round trip each time) until it returns a value. */
async function poll<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe.skipIf(rabbit.skip)('RabbitMQ broker', () => {
  const brokers: RabbitMqBroker[] = [];
  let previous: ReturnType<typeof setErrorHandler>;
  const make = (url = rabbit.url) => {
    const broker = new RabbitMqBroker({ url, exchange, reconnectBackoff: { delayMs: () => 25 } });
    brokers.push(broker);
    return broker;
  };

  beforeAll(() => {
    previous = setErrorHandler(() => undefined);
  });
  afterAll(async () => {
    setErrorHandler(previous);
    for (const broker of brokers) await broker.close();
    const connection = await amqp.connect(rabbit.url);
    const channel = await connection.createChannel();
    for (const q of queues) await channel.deleteQueue(q);
    await channel.deleteExchange(exchange);
    await channel.deleteExchange(`${exchange}.dlx`);
    await connection.close();
  });

  it('publishes with confirms and delivers in order to a bound queue with manual acks', async () => {
    const broker = make();
    expect(await broker.start()).toBe(true);
    await expect(broker.health()).resolves.toBeUndefined();
    const got: Delivery[] = [];
    let notify = () => {};
    await broker.subscribe({ queue: queue('basic'), topics: ['order.*'], prefetch: 5 }, (d) => {
      got.push(d);
      notify();
      return Promise.resolve();
    });
    for (let i = 0; i < 5; i++) await broker.publish(event(`b${i}`));
    await broker.publish(event('x', 'payment.captured')); // not bound: dropped by the exchange
    await until(
      (cb) => (notify = cb),
      () => got.length >= 5,
    );
    expect(got.map((d) => d.message.id)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    expect(got[0]).toMatchObject({ redelivered: false, deliveryCount: 1, message: event('b0') });
  });

  it('sends a poison message and an undecodable body to the dead-letter queue', async () => {
    const broker = make();
    await broker.start();
    const q = queue('poison');
    const ok: string[] = [];
    await broker.subscribe({ queue: q, topics: ['order.confirmed'] }, (d) => {
      if (d.message.id === 'bad') return Promise.reject(new PoisonMessageError('cannot ship'));
      ok.push(d.message.id);
      return Promise.resolve();
    });
    await broker.publish(event('bad'));
    await broker.publish(event('good'));
    const raw = await amqp.connect(rabbit.url);
    const ch = await raw.createConfirmChannel();
    ch.publish(exchange, 'order.confirmed', Buffer.from('{not json'));
    await ch.waitForConfirms();
    await raw.close();
    const dead = await poll(async () =>
      (await broker.deadLetterDepth(q)) >= 2 ? broker.takeDeadLetters(q) : undefined,
    );
    expect(dead.map((d) => d.message?.id ?? d.body).sort()).toEqual(['bad', '{not json']);
    expect(dead.every((d) => d.reason === 'rejected' && d.queue === q)).toBe(true);
    // The reason travels with the dead letter (republished with x-ballast-dead-letter-reason).
    expect(dead.find((d) => d.message?.id === 'bad')?.detail).toBe('cannot ship');
    expect(dead.find((d) => d.message === null)?.detail).toBe('message body is not JSON');
    expect(ok).toEqual(['good']);
  });

  it('dead-letters an order event of a schema version the fulfilment consumer does not know, with the reason', async () => {
    const broker = make();
    await broker.start();
    const q = queue('fulfilment-versions');
    const store = fakeFulfilmentStore();
    const shipped = store.shipped;
    const fulfilment = new FulfilmentConsumer({ broker, queue: q, store });
    await fulfilment.start();
    const confirmed = (id: string, schemaVersion: number): EventEnvelope => ({
      ...event(id),
      schemaVersion,
      payload: { orderId: `o-${id}`, futureField: true },
    });
    await broker.publish(confirmed('v9', 9));
    await broker.publish(confirmed('v1', 1));
    const dead = await poll(async () =>
      (await broker.deadLetterDepth(q)) >= 1 && shipped.length >= 1 ? broker.takeDeadLetters(q) : undefined,
    );
    await fulfilment.stop();
    expect(shipped).toEqual(['o-v1']);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.message).toMatchObject({ id: 'v9', schemaVersion: 9 });
    expect(dead[0]!.detail).toContain(
      'order.confirmed schema version 9 is newer than this reader knows (v1)',
    );
    expect(fulfilment.counts).toMatchObject({ fulfilled: 1, rejected: 1 });
  });

  it('redelivers a failing message and dead-letters it at the delivery limit', async () => {
    const broker = make();
    await broker.start();
    const q = queue('limit');
    const counts: number[] = [];
    await broker.subscribe({ queue: q, topics: ['order.confirmed'], maxDeliveries: 3 }, (d) => {
      counts.push(d.deliveryCount);
      return Promise.reject(new Error('transient'));
    });
    await broker.publish(event('flaky'));
    const [dead] = await poll(async () => {
      const letters = await broker.takeDeadLetters(q);
      return letters.length > 0 ? letters : undefined;
    });
    expect(dead).toMatchObject({ reason: 'delivery_limit', message: { id: 'flaky' } });
    expect(counts).toEqual([1, 2, 3]);
  });

  it('fails fast while unreachable and keeps retrying in the background', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(rabbit.url).port || 5672));
    proxy.cut();
    const url = new URL(rabbit.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const broker = make(url.toString());
    expect(await broker.start()).toBe(false);
    await expect(broker.publish(event('e'))).rejects.toSatisfy(isBrokerUnavailableError);
    await expect(broker.health()).rejects.toSatisfy(isBrokerUnavailableError);
    proxy.restore();
    await broker.whenConnected();
    await expect(broker.publish(event('e'))).resolves.toBeUndefined();
    await broker.close();
    await proxy.close();
  });

  it('delivers every outbox event after the broker comes back, with exactly-once effects', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(rabbit.url).port || 5672));
    const url = new URL(rabbit.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const broker = make(url.toString());
    expect(await broker.start()).toBe(true);
    const repo = await createSqliteRepository();
    await seedDemoData(repo, { apiKeys: KEYS });
    const fulfilment = new FulfilmentConsumer({ broker, store: repo, queue: queue('fulfilment') });
    await fulfilment.start();
    const relay = new OutboxRelay({
      store: repo,
      broker,
      pollIntervalMs: 10,
      outageBackoff: { delayMs: () => 20 },
    });
    let processed = () => {};
    fulfilment.onProcessed(() => processed());
    const outages: RelayOutageEvent[] = [];
    let outage = () => {};
    relay.onOutage((e) => {
      outages.push(e);
      outage();
    });
    const checkout = async (key: string) => {
      const items = [{ productId: 'sku-mug', quantity: 1 }];
      const r = await repo.createOrder({
        tenantId: 'acme',
        idempotencyKey: key,
        requestHash: requestHash(items),
        items,
      });
      if (r.outcome !== 'created') throw new Error(r.outcome);
      await repo.recordPayment({
        tenantId: 'acme',
        orderId: r.order.id,
        payment: { ok: true, paymentId: key },
      });
    };

    relay.start();
    for (let i = 0; i < 5; i++) await checkout(`before-${i}`);
    await until(
      (cb) => (processed = cb),
      () => fulfilment.counts.fulfilled === 5,
    );

    // The broker goes away.
    const down = until(
      (cb) => broker.onConnectionChange(cb),
      () => !broker.connected,
    );
    proxy.cut();
    await down;
    for (let i = 0; i < 5; i++) await checkout(`during-${i}`);
    await until(
      (cb) => (outage = cb),
      () => outages.length >= 2,
    );
    const stats = await relay.stats();
    expect(stats.depth).toBeGreaterThanOrEqual(10); // 5 orders × (created + confirmed)
    expect(stats.deadLettered).toBe(0);

    // It comes back: the relay and the consumer resume on their own.
    proxy.restore();
    await broker.whenConnected();
    await until(
      (cb) => (processed = cb),
      () => fulfilment.counts.fulfilled === 10,
    );
    await relay.stop();
    expect(await relay.stats()).toMatchObject({ depth: 0, deadLettered: 0 });
    expect(await repo.countShipments('acme')).toBe(10);
    expect(outages.every((o) => o.source === 'broker')).toBe(true);
    const orders = await repo.listOrders('acme', { limit: 100 });
    expect(orders.items.every((o) => o.status === 'fulfilled')).toBe(true);
    await fulfilment.stop();
    await broker.close();
    await repo.close();
    await proxy.close();
  });
});
