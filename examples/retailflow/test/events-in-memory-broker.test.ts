import { flushMicrotasks, setErrorHandler } from '@ballast/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InMemoryBroker,
  PoisonMessageError,
  decodeEnvelope,
  envelopeFromOutbox,
  isBrokerUnavailableError,
  isPoisonMessageError,
  isPublishRejectedError,
  topicMatches,
  type Delivery,
  type EventEnvelope,
} from '../src/events/index.js';

const event = (id: string, type = 'order.confirmed'): EventEnvelope => ({
  id,
  type,
  schemaVersion: 1,
  tenantId: 'acme',
  aggregateType: 'order',
  aggregateId: `o-${id}`,
  occurredAt: 1,
  payload: { n: id },
});

describe('topicMatches', () => {
  it.each([
    ['order.confirmed', 'order.confirmed', true],
    ['order.*', 'order.confirmed', true],
    ['order.*', 'order.payment.failed', false],
    ['order.#', 'order', true],
    ['order.#', 'order.payment.failed', true],
    ['#', 'anything.at.all', true],
    ['*.confirmed', 'order.confirmed', true],
    ['order.created', 'order.confirmed', false],
    ['#.failed', 'order.payment.failed', true],
  ])('%s against %s is %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe('envelopes', () => {
  it('decodes a valid body and rejects others as poison, naming the field', () => {
    expect(decodeEnvelope(JSON.stringify(event('a')))).toEqual(event('a'));
    expect(() => decodeEnvelope('not json')).toThrow('message body is not JSON');
    expect(() => decodeEnvelope(JSON.stringify({ ...event('a'), tenantId: 3 }))).toThrow(
      'event envelope has no `tenantId` string',
    );
    try {
      decodeEnvelope('{}');
    } catch (error) {
      expect(isPoisonMessageError(error)).toBe(true);
    }
  });

  it('builds an envelope from an outbox row, and calls a row with a broken payload poison', () => {
    const payload = {
      orderId: 'o1',
      status: 'pending',
      totalCents: 600,
      currency: 'USD',
      paymentId: null,
      reason: null,
      items: [{ productId: 'sku-filter', name: 'Paper filters, 100', quantity: 1, unitPriceCents: 600 }],
    };
    const row = {
      id: 'e1',
      tenantId: 'acme',
      aggregateType: 'order',
      aggregateId: 'o1',
      type: 'order.created',
      payload: JSON.stringify(payload),
      createdAt: 42,
      attempts: 0,
      lastError: null,
    };
    expect(envelopeFromOutbox(row)).toEqual({
      id: 'e1',
      type: 'order.created',
      schemaVersion: 1,
      tenantId: 'acme',
      aggregateType: 'order',
      aggregateId: 'o1',
      occurredAt: 42,
      payload,
    });
    expect(() => envelopeFromOutbox({ ...row, payload: '{oops' })).toThrow(PoisonMessageError);
    expect(() => envelopeFromOutbox({ ...row, payload: '{"orderId":"o1"}' })).toThrow(
      'outbox event e1: order.created v1 does not match its schema: payload has no `status`',
    );
  });
});

describe('InMemoryBroker', () => {
  let reported: unknown[];
  let previous: ReturnType<typeof setErrorHandler>;
  beforeEach(() => {
    reported = [];
    previous = setErrorHandler((error) => reported.push(error));
  });
  afterEach(() => {
    setErrorHandler(previous);
  });

  it('routes by topic to every bound queue, with a copy of the message', async () => {
    const broker = new InMemoryBroker();
    const a: Delivery[] = [];
    const b: Delivery[] = [];
    await broker.subscribe({ queue: 'a', topics: ['order.confirmed'] }, (d) =>
      Promise.resolve(void a.push(d)),
    );
    await broker.subscribe({ queue: 'b', topics: ['order.#'] }, (d) => Promise.resolve(void b.push(d)));
    const sent = event('1');
    await broker.publish(sent);
    await broker.publish(event('2', 'order.created'));
    await broker.publish(event('3', 'payment.captured')); // routed nowhere: dropped, as on a topic exchange
    await flushMicrotasks();
    expect(a.map((d) => d.message.id)).toEqual(['1']);
    expect(b.map((d) => d.message.id)).toEqual(['1', '2']);
    expect(a[0]).toMatchObject({ queue: 'a', redelivered: false, deliveryCount: 1 });
    expect(a[0]!.message).toEqual(sent);
    expect(a[0]!.message).not.toBe(sent);
  });

  it('keeps at most `prefetch` deliveries in flight', async () => {
    const broker = new InMemoryBroker();
    const release: (() => void)[] = [];
    let inFlight = 0;
    let peak = 0;
    await broker.subscribe({ queue: 'q', topics: ['#'], prefetch: 3 }, async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((resolve) => release.push(resolve));
      inFlight--;
    });
    for (let i = 0; i < 10; i++) await broker.publish(event(String(i)));
    await flushMicrotasks();
    expect(inFlight).toBe(3);
    expect(broker.depth('q')).toBe(7);
    while (release.length > 0) {
      release.shift()!();
      await flushMicrotasks();
    }
    expect(peak).toBe(3);
    expect(broker.depth('q')).toBe(0);
  });

  it('redelivers a failing message up to maxDeliveries, then dead-letters it', async () => {
    const broker = new InMemoryBroker();
    const seen: number[] = [];
    await broker.subscribe({ queue: 'q', topics: ['#'], maxDeliveries: 3 }, (d) => {
      seen.push(d.deliveryCount);
      return Promise.reject(new Error('store down'));
    });
    await broker.publish(event('1'));
    await flushMicrotasks();
    expect(seen).toEqual([1, 2, 3]);
    expect(await broker.deadLetterDepth('q')).toBe(1);
    const [dead] = await broker.takeDeadLetters('q');
    expect(dead).toMatchObject({ queue: 'q', reason: 'delivery_limit', message: { id: '1' } });
    expect(await broker.deadLetterDepth('q')).toBe(0);
    expect(reported).toHaveLength(3);
  });

  it('dead-letters a poison message at once', async () => {
    const broker = new InMemoryBroker();
    let calls = 0;
    const ok: string[] = [];
    await broker.subscribe({ queue: 'q', topics: ['#'] }, (d) => {
      calls++;
      if (d.message.id === 'bad') return Promise.reject(new PoisonMessageError('no order id'));
      ok.push(d.message.id);
      return Promise.resolve();
    });
    await broker.publish(event('bad'));
    await broker.publish(event('good'));
    await flushMicrotasks();
    expect(calls).toBe(2);
    expect(ok).toEqual(['good']);
    expect(await broker.takeDeadLetters('q')).toMatchObject([{ reason: 'rejected', message: { id: 'bad' } }]);
  });

  it('refuses an invalid envelope with a negative confirm', async () => {
    const broker = new InMemoryBroker();
    const bad = { ...event('1'), id: '' };
    await expect(broker.publish(bad)).rejects.toSatisfy(isPublishRejectedError);
  });

  it('refuses to publish while disconnected and resumes deliveries after reconnecting', async () => {
    const broker = new InMemoryBroker();
    const changes: boolean[] = [];
    broker.onConnectionChange((e) => changes.push(e.connected));
    const got: string[] = [];
    let release!: () => void;
    await broker.subscribe({ queue: 'q', topics: ['#'], prefetch: 1 }, async (d) => {
      if (d.message.id === '1') await new Promise<void>((resolve) => (release = resolve));
      got.push(d.message.id);
    });
    await broker.publish(event('1'));
    await broker.publish(event('2'));
    await flushMicrotasks();
    broker.disconnect();
    await expect(broker.publish(event('3'))).rejects.toSatisfy(isBrokerUnavailableError);
    await expect(broker.health()).rejects.toSatisfy(isBrokerUnavailableError);
    release();
    await flushMicrotasks();
    expect(got).toEqual(['1']); // '2' waits for the connection
    expect(broker.depth('q')).toBe(1);
    broker.reconnect();
    await flushMicrotasks();
    expect(got).toEqual(['1', '2']);
    expect(changes).toEqual([false, true]);
    await expect(broker.health()).resolves.toBeUndefined();
  });

  it('waits for deliveries in flight when a consumer closes', async () => {
    const broker = new InMemoryBroker();
    let finish!: () => void;
    let done = false;
    const consumer = await broker.subscribe({ queue: 'q', topics: ['#'] }, async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      done = true;
    });
    await broker.publish(event('1'));
    await flushMicrotasks();
    let closed = false;
    const closing = consumer.close().then(() => (closed = true));
    await flushMicrotasks();
    expect(closed).toBe(false);
    finish();
    await closing;
    expect(done).toBe(true);
    await expect(
      broker.subscribe({ queue: 'q', topics: ['#'] }, () => Promise.resolve()),
    ).resolves.toBeDefined();
  });

  it('rejects bad options with the template', async () => {
    expect(() => new InMemoryBroker({ maxQueueLength: 0 })).toThrow(
      'Expected `maxQueueLength` to be an integer >= 1',
    );
    const broker = new InMemoryBroker();
    await expect(
      broker.subscribe({ queue: 'q', topics: ['#'], prefetch: 0 }, () => Promise.resolve()),
    ).rejects.toThrow('Expected `prefetch`');
  });
});
