/**
 * Outbox relay throughput on the embedded stack (SQLite `:memory:` + in-process broker): events per second drained
 * with batches of 50 against batches of 1, with the cost of writing the rows measured alone as the baseline.
 * Also the checkout transaction (order + inventory + outbox + audit) against a bare order lookup.
 *
 * Run: `npx tsx --conditions=@ballast/source examples/retailflow/bench/outbox-relay.bench.ts`
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '@ballast/core';
import { measure, report, row } from '@ballast/testkit';
import { SqlRepository, applyMigrations, requestHash, seedDemoData } from '../src/data/index.js';
import { SqliteDriver } from '../src/data/sqlite-driver.js';
import { InMemoryBroker, OutboxRelay } from '../src/events/index.js';

const EVENTS = 50;

async function setup() {
  const driver = new SqliteDriver(':memory:');
  await applyMigrations(driver, systemClock);
  const repo = new SqlRepository(driver);
  await seedDemoData(repo, { apiKeys: { acme: 'bench-acme-key', globex: 'bench-globex-key' } });
  const broker = new InMemoryBroker({ maxQueueLength: 10_000_000 });
  // A consumer that acks at once, so queues do not grow.
  await broker.subscribe({ queue: 'sink', topics: ['#'], prefetch: 1000 }, () => Promise.resolve());
  const fill = () =>
    driver.transaction(async (s) => {
      for (let i = 0; i < EVENTS; i++) {
        await s.run(
          `INSERT INTO outbox (id, tenant_id, aggregate_type, aggregate_id, type, payload, created_at, next_attempt_at)
           VALUES (?, 'acme', 'order', 'o', 'order.created', '{"orderId":"o"}', 0, 0)`,
          [randomUUID()],
        );
      }
    });
  return { repo, broker, fill };
}

export async function run() {
  const a = await setup();
  const b = await setup();
  const c = await setup();
  const relay50 = new OutboxRelay({ store: b.repo, broker: b.broker, batchSize: 50 });
  const relay1 = new OutboxRelay({ store: c.repo, broker: c.broker, batchSize: 1 });
  const drain = async (relay: OutboxRelay) => {
    while ((await relay.runOnce()).claimed > 0);
  };
  const items = [{ productId: 'sku-filter', quantity: 1 }];
  const hash = requestHash({ items });
  await a.repo.setStock('acme', 'sku-filter', 1_000_000_000);
  let n = 0;
  const options = { timeMs: 600, warmupMs: 150 };
  const results = await measure(
    [
      { name: 'write 50 outbox rows (baseline)', fn: a.fill, batch: EVENTS },
      {
        name: 'write + relay, batch 50',
        fn: async () => {
          await b.fill();
          await drain(relay50);
        },
        batch: EVENTS,
      },
      {
        name: 'write + relay, batch 1',
        fn: async () => {
          await c.fill();
          await drain(relay1);
        },
        batch: EVENTS,
      },
      { name: 'order lookup by idempotency key', fn: () => a.repo.findOrderByIdempotencyKey('acme', 'nope') },
      {
        name: 'checkout transaction',
        fn: () =>
          a.repo.createOrder({ tenantId: 'acme', idempotencyKey: `b${n++}`, requestHash: hash, items }),
      },
    ],
    options,
  );
  const ratios = {
    'relay batch 50 / batch 1':
      row(results, 'write + relay, batch 50').opsPerSec / row(results, 'write + relay, batch 1').opsPerSec,
    'relay batch 50 / write only':
      row(results, 'write + relay, batch 50').opsPerSec /
      row(results, 'write 50 outbox rows (baseline)').opsPerSec,
    'checkout / lookup':
      row(results, 'checkout transaction').opsPerSec /
      row(results, 'order lookup by idempotency key').opsPerSec,
  };
  return { results, ratios };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, ratios } = await run();
  report('retailflow outbox relay (SQLite :memory: + in-process broker)', results, ratios);
}
