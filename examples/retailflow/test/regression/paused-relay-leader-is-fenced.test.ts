import { randomBytes } from 'node:crypto';
import { ManualClock } from '@ballast/core';
import { LeaseLock } from '@ballast/resilience';
import { testService } from '@ballast/testkit/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDriver } from '../../src/data/sqlite-driver.js';
import {
  SqlRepository,
  applyMigrations,
  createPostgresRepository,
  requestHash,
  seedDemoData,
  type Repository,
} from '../../src/data/index.js';
import {
  FulfilmentConsumer,
  InMemoryBroker,
  OutboxRelay,
  type EventEnvelope,
  type RelayLeadershipEvent,
} from '../../src/events/index.js';
import { KEYS } from '../data-contract.js';

/**
 * Regression: the relay's only protection against a second relay was the per-event claim lease. A relay paused past
 * that lease (GC, swap, a partition, a region failing over) woke up, marked events as published that another relay
 * had claimed since, and kept claiming: two relays published at once. With a leadership lease and fencing tokens the
 * paused relay's writes are refused and it stops leading.
 */
async function pausedLeaderScenario(repo: Repository, clock: ManualClock): Promise<void> {
  await seedDemoData(repo, { apiKeys: KEYS });
  const broker = new InMemoryBroker();
  const seen: EventEnvelope[] = [];
  await broker.subscribe({ queue: 'tap', topics: ['#'] }, ({ message }) =>
    Promise.resolve(void seen.push(message)),
  );
  const fulfilment = new FulfilmentConsumer({ broker, store: repo });
  // 5 orders x 2 events, plus the 6 that the paused relay publishes again after waking.
  const handled = new Promise<void>((resolve) => {
    let n = 0;
    fulfilment.onProcessed(() => {
      if (++n === 16) resolve();
    });
  });
  await fulfilment.start();

  // Relay A's broker connection hangs (the process is paused) until `wake` is called.
  let wake: () => void = () => undefined;
  const paused = new Promise<void>((resolve) => (wake = resolve));
  let pauseA = false;
  let entered: () => void = () => undefined;
  const publishing = new Promise<void>((resolve) => (entered = resolve));
  const brokerA = {
    publish: async (m: EventEnvelope) => {
      if (pauseA) {
        entered();
        await paused;
      }
      return broker.publish(m);
    },
  };
  const lockA = new LeaseLock({
    store: repo.relayLeases,
    key: 'outbox-relay',
    owner: 'a',
    leaseMs: 10_000,
    clock,
  });
  const lockB = new LeaseLock({
    store: repo.relayLeases,
    key: 'outbox-relay',
    owner: 'b',
    leaseMs: 10_000,
    clock,
  });
  const a = new OutboxRelay({ store: repo, broker: brokerA, clock, leaseMs: 5_000, leadership: lockA });
  const b = new OutboxRelay({ store: repo, broker, clock, leaseMs: 5_000, leadership: lockB });
  const leadershipA: RelayLeadershipEvent[] = [];
  a.onLeadership((e) => leadershipA.push(e));

  const checkout = async (key: string): Promise<string> => {
    const items = [{ productId: 'sku-kettle', quantity: 1 }];
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
      payment: { ok: true, paymentId: `p-${key}` },
    });
    return r.order.id;
  };

  await checkout('k0');
  expect(await a.runOnce()).toMatchObject({ leader: true, published: 2 });
  expect(await b.runOnce()).toMatchObject({ leader: false, claimed: 0 });

  for (let i = 1; i <= 3; i++) await checkout(`k${i}`);
  pauseA = true;
  const inFlight = a.runOnce(); // A claims 6 events and hangs publishing them
  await publishing;

  clock.advance(10_001); // A's leadership lease and its claims run out while it is paused
  const takeover = await b.runOnce();
  expect(takeover).toMatchObject({ leader: true, claimed: 6, published: 6 });
  expect(b.leadingWith!.token).toBeGreaterThan(leadershipA[0]!.token);

  wake(); // A resumes: its publishes complete, but the store refuses its marks
  const stale = await inFlight;
  expect(stale).toMatchObject({ fenced: 6, published: 0, leader: false });
  expect(leadershipA.at(-1)).toMatchObject({ leader: false, reason: 'fenced' });
  expect(a.leadingWith).toBeUndefined();

  // A never claims again while B leads.
  await checkout('k4');
  expect(await a.runOnce()).toMatchObject({ leader: false, claimed: 0 });
  expect(await b.runOnce()).toMatchObject({ leader: true, claimed: 2 });
  expect((await repo.outboxStats()).depth).toBe(0);

  // A's late publishes were duplicates of B's; fulfilment applied each order once.
  await handled;
  expect(seen).toHaveLength(16);
  expect(new Set(seen.map((m) => m.id)).size).toBe(10);
  expect(await repo.countShipments()).toBe(5);
  await fulfilment.stop();
  await a.stop();
  await b.stop();
}

describe('a relay paused past its leadership lease is fenced', () => {
  it('on SQLite', async () => {
    const clock = new ManualClock(1_000_000);
    const driver = new SqliteDriver(':memory:');
    await applyMigrations(driver, clock);
    await pausedLeaderScenario(new SqlRepository(driver, { clock }), clock);
  });

  const postgres = testService('postgres');
  const schema = `rf_fence_${process.pid}_${randomBytes(3).toString('hex')}`;
  let close: (() => Promise<void>) | undefined;
  afterAll(async () => close?.());

  it.skipIf(postgres.skip)('on PostgreSQL', async () => {
    const clock = new ManualClock(1_000_000);
    const repo = await createPostgresRepository({ connectionString: postgres.url, schema, clock, max: 4 });
    close = async () => {
      await repo.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await repo.close();
    };
    await pausedLeaderScenario(repo, clock);
  });
});
