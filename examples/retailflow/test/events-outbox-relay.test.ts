import { ManualClock, flushMicrotasks, setErrorHandler, systemClock } from '@ballast/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDriver } from '../src/data/sqlite-driver.js';
import { SqlRepository, applyMigrations, requestHash, seedDemoData } from '../src/data/index.js';
import {
  BrokerUnavailableError,
  FulfilmentConsumer,
  InMemoryBroker,
  OutboxRelay,
  PublishRejectedError,
  exponentialRelayBackoff,
  type EventEnvelope,
  type RelayDeadLetteredEvent,
  type RelayOutageEvent,
} from '../src/events/index.js';
import { KEYS } from './data-contract.js';

interface Setup {
  clock: ManualClock;
  driver: SqliteDriver;
  repo: SqlRepository;
  broker: InMemoryBroker;
  got: EventEnvelope[];
}

async function setup(): Promise<Setup> {
  const clock = new ManualClock(1_000_000);
  const driver = new SqliteDriver(':memory:');
  await applyMigrations(driver, clock);
  const repo = new SqlRepository(driver, { clock });
  await seedDemoData(repo, { apiKeys: KEYS });
  const broker = new InMemoryBroker();
  const got: EventEnvelope[] = [];
  await broker.subscribe({ queue: 'all', topics: ['#'] }, ({ message }) =>
    Promise.resolve(void got.push(message)),
  );
  return { clock, driver, repo, broker, got };
}

async function orders(repo: SqlRepository, count: number, prefix = 'k'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const items = [{ productId: 'sku-filter', quantity: 1 }];
    const r = await repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: `${prefix}${i}`,
      requestHash: requestHash({ items }),
      items,
    });
    if (r.outcome !== 'created') throw new Error(r.outcome);
    ids.push(r.order.id);
  }
  return ids;
}

/** A publisher in front of the broker that refuses chosen events. */
function flaky(broker: InMemoryBroker, refuse: (m: EventEnvelope, attempt: number) => Error | undefined) {
  const attempts = new Map<string, number>();
  return {
    attempts,
    publish(message: EventEnvelope): Promise<void> {
      const n = (attempts.get(message.id) ?? 0) + 1;
      attempts.set(message.id, n);
      const error = refuse(message, n);
      return error ? Promise.reject(error) : broker.publish(message);
    },
  };
}

const fixedBackoff = { delayMs: (attempt: number) => 1000 * 2 ** (attempt - 1) };

describe('OutboxRelay', () => {
  let s: Setup;
  let previous: ReturnType<typeof setErrorHandler>;
  const reported: unknown[] = [];
  beforeEach(async () => {
    s = await setup();
    reported.length = 0;
    previous = setErrorHandler((e) => reported.push(e));
  });
  afterEach(async () => {
    setErrorHandler(previous);
    await s.repo.close();
  });

  it('publishes every event in order, marks it published after the confirm, and reports lag', async () => {
    const ids = await orders(s.repo, 3);
    const relay = new OutboxRelay({ store: s.repo, broker: s.broker, clock: s.clock });
    const lags: number[] = [];
    relay.onPublished((e) => lags.push(e.lagMs));
    s.clock.advance(1500);
    expect(await relay.stats()).toMatchObject({ depth: 3, lagMs: 1500 });
    expect(await relay.runOnce()).toEqual({
      claimed: 3,
      published: 3,
      failed: 0,
      deadLettered: 0,
      released: 0,
      outage: undefined,
      fenced: 0,
      leader: true,
    });
    await flushMicrotasks();
    expect(s.got.map((m) => m.aggregateId)).toEqual(ids);
    expect(s.got.every((m) => m.type === 'order.created')).toBe(true);
    expect(lags).toEqual([1500, 1500, 1500]);
    expect(await relay.stats()).toMatchObject({ depth: 0, lagMs: 0 });
    expect((await relay.runOnce()).claimed).toBe(0);
  });

  it('retries a refused publish with exponential backoff on the clock', async () => {
    const [id] = await orders(s.repo, 1);
    const publisher = flaky(s.broker, (_m, n) => (n <= 2 ? new PublishRejectedError('nack') : undefined));
    const relay = new OutboxRelay({
      store: s.repo,
      broker: publisher,
      clock: s.clock,
      backoff: fixedBackoff,
      maxAttempts: 5,
    });
    const failures: number[] = [];
    relay.onFailed((e) => failures.push(e.nextAttemptAt - s.clock.now()));
    expect((await relay.runOnce()).failed).toBe(1);
    s.clock.advance(999);
    expect((await relay.runOnce()).claimed).toBe(0); // not due before 1 s
    s.clock.advance(1);
    expect((await relay.runOnce()).failed).toBe(1);
    s.clock.advance(1999);
    expect((await relay.runOnce()).claimed).toBe(0); // second retry waits 2 s
    s.clock.advance(1);
    expect((await relay.runOnce()).published).toBe(1);
    await flushMicrotasks();
    expect(failures).toEqual([1000, 2000]);
    expect(s.got.map((m) => m.aggregateId)).toEqual([id]);
    expect(publisher.attempts.size).toBe(1);
  });

  it('dead-letters an event after maxAttempts and keeps delivering the others', async () => {
    await orders(s.repo, 3);
    const [victim] = await s.repo.claimOutbox({ limit: 1, leaseMs: 1 });
    s.clock.advance(1);
    const publisher = flaky(s.broker, (m) =>
      m.id === victim!.id ? new PublishRejectedError('too large') : undefined,
    );
    const relay = new OutboxRelay({
      store: s.repo,
      broker: publisher,
      clock: s.clock,
      backoff: fixedBackoff,
      maxAttempts: 3,
    });
    const dead: RelayDeadLetteredEvent[] = [];
    relay.onDeadLettered((e) => dead.push(e));
    relay.start();
    await s.clock.advanceAsync(60_000);
    await relay.stop();
    expect(publisher.attempts.get(victim!.id)).toBe(3);
    expect(dead).toMatchObject([{ id: victim!.id, reason: 'max_attempts', attempts: 3 }]);
    expect(await s.repo.listDeadLettered()).toMatchObject([
      { id: victim!.id, attempts: 3, lastError: 'PublishRejectedError: too large' },
    ]);
    expect(await relay.stats()).toMatchObject({ depth: 0, deadLettered: 1 });
    expect(s.got).toHaveLength(2);
  });

  it('dead-letters a poison payload at once without publishing it', async () => {
    await orders(s.repo, 1);
    await s.driver.transaction((q) =>
      q.run(
        `INSERT INTO outbox (id, tenant_id, aggregate_type, aggregate_id, type, payload, created_at, next_attempt_at)
         VALUES ('poison-1', 'acme', 'order', 'o-x', 'order.created', '{not json', 0, 0)`,
      ),
    );
    const relay = new OutboxRelay({ store: s.repo, broker: s.broker, clock: s.clock });
    const dead: RelayDeadLetteredEvent[] = [];
    relay.onDeadLettered((e) => dead.push(e));
    expect(await relay.runOnce()).toMatchObject({ claimed: 2, published: 1, deadLettered: 1 });
    expect(dead).toMatchObject([{ id: 'poison-1', reason: 'poison', attempts: 1 }]);
    expect((await s.repo.listDeadLettered())[0]?.lastError).toContain('not JSON');
  });

  it('loses nothing while the broker is away: no attempts counted, backoff, then delivery of every event', async () => {
    const before = await orders(s.repo, 2, 'a');
    const relay = new OutboxRelay({
      store: s.repo,
      broker: s.broker,
      clock: s.clock,
      maxAttempts: 2,
      pollIntervalMs: 100,
      outageBackoff: exponentialRelayBackoff(200, 1600),
      random: () => 1,
    });
    const outages: RelayOutageEvent[] = [];
    relay.onOutage((e) => outages.push(e));
    relay.start();
    await s.clock.advanceAsync(0);
    expect(s.got).toHaveLength(2);

    s.broker.disconnect();
    const during = await orders(s.repo, 5, 'b');
    await s.clock.advanceAsync(10_000);
    expect(outages.length).toBeGreaterThan(3);
    expect(outages.slice(0, 5).map((o) => o.retryInMs)).toEqual([200, 400, 800, 1600, 1600]);
    expect(outages.every((o) => o.source === 'broker')).toBe(true);
    const stats = await relay.stats();
    expect(stats).toMatchObject({ depth: 5, deadLettered: 0 });
    const pending = await s.repo.claimOutbox({ limit: 10, leaseMs: 1 });
    expect(pending.every((p) => p.attempts === 0)).toBe(true); // an outage burns no attempts
    s.clock.advance(1);

    s.broker.reconnect();
    await s.clock.advanceAsync(1600);
    await relay.stop();
    expect(s.got.map((m) => m.aggregateId)).toEqual([...before, ...during]);
    expect(await relay.stats()).toMatchObject({ depth: 0, deadLettered: 0 });
  });

  it('stops gracefully: the batch in flight finishes and is marked, no new batch starts', async () => {
    await orders(s.repo, 2);
    const confirms: (() => void)[] = [];
    const slow = {
      publish: (m: EventEnvelope) =>
        new Promise<void>((resolve) => confirms.push(() => void s.broker.publish(m).then(resolve))),
    };
    const relay = new OutboxRelay({ store: s.repo, broker: slow, clock: s.clock, pollIntervalMs: 50 });
    relay.start();
    await s.clock.advanceAsync(0);
    expect(confirms).toHaveLength(2);
    let stopped = false;
    const stopping = relay.stop().then(() => (stopped = true));
    await flushMicrotasks();
    expect(stopped).toBe(false);
    expect(relay.running).toBe(false);
    for (const confirm of confirms) confirm();
    await stopping;
    expect(await relay.stats()).toMatchObject({ depth: 0 });
    await orders(s.repo, 1, 'late');
    await s.clock.advanceAsync(1000);
    expect(confirms).toHaveLength(2);
    expect(s.clock.pendingTimers).toBe(0);
  });

  it('prunes published events once they are older than the retention', async () => {
    await orders(s.repo, 2);
    const relay = new OutboxRelay({
      store: s.repo,
      broker: s.broker,
      clock: s.clock,
      retainPublishedMs: 10_000,
      pruneIntervalMs: 1_000,
    });
    const count = () => s.driver.read((q) => q.all('SELECT COUNT(*) AS n FROM outbox'));
    await relay.runOnce();
    expect(await count()).toEqual([{ n: 2 }]);
    s.clock.advance(5_000);
    await relay.runOnce(); // prune due, but nothing is 10 s old yet
    expect(await count()).toEqual([{ n: 2 }]);
    s.clock.advance(5_001);
    await relay.runOnce();
    expect(await count()).toEqual([{ n: 0 }]);
  });

  it('backs off when the store is unavailable and reports it', async () => {
    const relay = new OutboxRelay({
      store: {
        ...s.repo,
        claimOutbox: () => Promise.reject(new Error('database is down')),
      } as unknown as SqlRepository,
      broker: s.broker,
      clock: s.clock,
    });
    const outages: RelayOutageEvent[] = [];
    relay.onOutage((e) => outages.push(e));
    expect((await relay.runOnce()).outage).toBe('store');
    expect(outages[0]).toMatchObject({ source: 'store', consecutive: 1 });
  });

  it('never publishes one event twice when two relays share the outbox', async () => {
    await orders(s.repo, 20);
    const a = new OutboxRelay({ store: s.repo, broker: s.broker, clock: s.clock, batchSize: 3 });
    const b = new OutboxRelay({ store: s.repo, broker: s.broker, clock: s.clock, batchSize: 3 });
    a.start();
    b.start();
    await s.clock.advanceAsync(5_000);
    await Promise.all([a.stop(), b.stop()]);
    const ids = s.got.map((m) => m.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it('treats a BrokerUnavailableError from any publisher as an outage', async () => {
    await orders(s.repo, 1);
    const relay = new OutboxRelay({
      store: s.repo,
      broker: { publish: () => Promise.reject(new BrokerUnavailableError('no connection')) },
      clock: s.clock,
    });
    expect(await relay.runOnce()).toMatchObject({ released: 1, failed: 0, outage: 'broker' });
  });

  it('rejects bad options with the template', () => {
    expect(() => new OutboxRelay({ store: s.repo, broker: s.broker, batchSize: 0 })).toThrow(
      'Expected `batchSize` to be an integer >= 1',
    );
    expect(() => new OutboxRelay({ store: s.repo, broker: s.broker, maxAttempts: 1.5 })).toThrow(
      'maxAttempts',
    );
    expect(() => new OutboxRelay({ store: {} as SqlRepository, broker: s.broker })).toThrow(
      'Expected `store`',
    );
    expect(systemClock).toBeDefined();
  });
});

describe('fulfilment through the in-process broker', () => {
  it('gives exactly-once effects from at-least-once delivery', async () => {
    const s = await setup();
    const relay = new OutboxRelay({ store: s.repo, broker: s.broker, clock: s.clock });
    const fulfilment = new FulfilmentConsumer({ broker: s.broker, store: s.repo });
    await fulfilment.start();
    const ids = await orders(s.repo, 4);
    for (const id of ids.slice(0, 3)) {
      await s.repo.recordPayment({
        tenantId: 'acme',
        orderId: id,
        payment: { ok: true, paymentId: `p-${id}` },
      });
    }
    // A pending order cannot be cancelled (its charge may be in flight): its payment fails first.
    await s.repo.recordPayment({
      tenantId: 'acme',
      orderId: ids[3]!,
      payment: { ok: false, failure: 'declined', reason: 'card declined' },
    });
    await s.repo.cancelOrder({ tenantId: 'acme', orderId: ids[3]! });
    await relay.runOnce();
    await flushMicrotasks();
    expect(fulfilment.counts).toEqual({
      fulfilled: 3,
      duplicate: 0,
      skipped: 0,
      ignored: 6,
      failed: 0,
      rejected: 0,
    });

    // The relay crashed after the confirms but before marking them: every event is delivered again.
    for (const message of [...s.got]) await s.broker.publish(message);
    await flushMicrotasks();
    expect(fulfilment.counts).toMatchObject({ fulfilled: 3, duplicate: 3, ignored: 12 });
    expect(await s.repo.countShipments('acme')).toBe(3);
    expect((await s.repo.getOrder('acme', ids[0]!))?.status).toBe('fulfilled');
    await fulfilment.stop();
    await s.repo.close();
  });

  it('dead-letters a confirmed event that is not about an order', async () => {
    const s = await setup();
    const fulfilment = new FulfilmentConsumer({ broker: s.broker, store: s.repo, queue: 'f' });
    await fulfilment.start();
    await s.broker.publish({
      id: 'e1',
      type: 'order.confirmed',
      tenantId: 'acme',
      aggregateType: 'invoice',
      aggregateId: 'i1',
      occurredAt: 0,
      payload: {},
    });
    await flushMicrotasks();
    expect(await s.broker.takeDeadLetters('f')).toMatchObject([
      { reason: 'rejected', message: { id: 'e1' } },
    ]);
    expect(fulfilment.counts.failed).toBe(1);
    await s.repo.close();
  });
});
