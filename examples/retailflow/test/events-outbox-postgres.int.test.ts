import { randomBytes } from 'node:crypto';
import { ManualClock, flushMicrotasks } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPostgresRepository,
  requestHash,
  seedDemoData,
  type PostgresRepository,
} from '../src/data/index.js';
import { FulfilmentConsumer, InMemoryBroker, OutboxRelay, type EventEnvelope } from '../src/events/index.js';
import { KEYS } from './data-contract.js';

const postgres = testService('postgres');
const schema = `rf_relay_${process.pid}_${randomBytes(3).toString('hex')}`;

describe.skipIf(postgres.skip)('outbox relay on PostgreSQL', () => {
  let repo: PostgresRepository | undefined;
  afterAll(async () => {
    if (!repo) return;
    await repo.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await repo.close();
  });

  it('two relays draining one outbox (SKIP LOCKED) publish every event once; fulfilment applies each once', async () => {
    const clock = new ManualClock(1_000);
    repo = await createPostgresRepository({ connectionString: postgres.url, schema, clock, max: 6 });
    await seedDemoData(repo, { apiKeys: KEYS });
    const broker = new InMemoryBroker();
    const seen: EventEnvelope[] = [];
    await broker.subscribe({ queue: 'tap', topics: ['#'] }, ({ message }) =>
      Promise.resolve(void seen.push(message)),
    );
    const fulfilment = new FulfilmentConsumer({ broker, store: repo });
    await fulfilment.start();

    // Concurrent checkouts, including duplicates of each idempotency key.
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const items = [{ productId: 'sku-kettle', quantity: 1 }];
    const results = await Promise.all(
      [...keys, ...keys].map((key) =>
        repo!.createOrder({ tenantId: 'acme', idempotencyKey: key, requestHash: requestHash(items), items }),
      ),
    );
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(12);
    for (const r of results) {
      if (r.outcome === 'created') {
        await repo.recordPayment({
          tenantId: 'acme',
          orderId: r.order.id,
          payment: { ok: true, paymentId: 'p' },
        });
      }
    }

    const a = new OutboxRelay({ store: repo, broker, clock, batchSize: 5 });
    const b = new OutboxRelay({ store: repo, broker, clock, batchSize: 5 });
    // The consumer writes to PostgreSQL: wait for its 24 deliveries (12 confirmed, 12 created) to be handled.
    const handled = new Promise<void>((resolve) => {
      let n = 0;
      fulfilment.onProcessed(() => {
        if (++n === 24) resolve();
      });
    });
    while ((await repo.outboxStats()).depth > 0) await Promise.all([a.runOnce(), b.runOnce()]);
    await handled;
    await flushMicrotasks();

    const ids = seen.map((m) => m.id);
    expect(ids).toHaveLength(24);
    expect(new Set(ids).size).toBe(24);
    expect(fulfilment.counts).toMatchObject({ fulfilled: 12, duplicate: 0, failed: 0 });
    expect(await repo.countShipments('acme')).toBe(12);
    expect((await repo.getProduct('acme', 'sku-kettle'))?.stock).toBe(300 - 12);
    await fulfilment.stop();
  });
});
