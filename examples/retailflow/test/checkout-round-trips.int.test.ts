import { randomBytes } from 'node:crypto';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostgresRepository,
  requestHash,
  seedDemoData,
  type PostgresRepository,
} from '../src/data/index.js';
import { Checkout, type CheckoutOutcome } from '../src/orders/checkout.js';
import { CheckoutSaga } from '../src/orders/saga.js';
import { chargingGateway as gateway, oneAttempt } from './helpers.js';

// What a successful checkout costs PostgreSQL, counted rather than claimed: every query the pool's clients send
// is one round trip (node-postgres sends a query and waits for its answer before the next), so wrapping
// `client.query` counts them, per repository command. A checkout is two commands: `createOrder` (the order, its
// stream, projections, outbox, audit and the stock) and `recordPayment` (the charge's outcome, with the same
// company). Each of them is at most three round trips, whatever the number of items.

const postgres = testService('postgres');
const schema = `rf_rt_${process.pid}_${randomBytes(3).toString('hex')}`;

interface Sent {
  readonly client: number;
  readonly sql: string;
}

let pool: pg.Pool;
let repo: PostgresRepository;
let sent: Sent[] = [];
let clients = 0;

/** Runs `fn` and returns what it resolved with and the queries it sent, in order. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; sent: Sent[] }> {
  sent = [];
  const result = await fn();
  return { result, sent: sent.splice(0) };
}

const isControl = (sql: string) => /^(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql.trim());

describe.skipIf(postgres.skip)('round trips of a checkout on PostgreSQL', () => {
  beforeAll(async () => {
    const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    pool = new pg.Pool({ connectionString: postgres.url, max: 4, options: `-c search_path=${schema}` });
    pool.on('error', () => undefined);
    // Every client the pool hands out reports what it sends.
    const wrapped = new WeakSet<pg.PoolClient>();
    pool.on('acquire', (client) => {
      if (wrapped.has(client)) return;
      wrapped.add(client);
      const id = ++clients;
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        sent.push({
          client: id,
          sql: typeof first === 'string' ? first : String((first as { text?: unknown }).text),
        });
        return query(...args);
      };
    });
    repo = await createPostgresRepository({ pool, clock: new ManualClock(Date.UTC(2026, 0, 5)) });
    await seedDemoData(repo, { apiKeys: { acme: 'acme-round-trips-key', globex: 'globex-round-trips-key' } });
  });
  afterAll(async () => {
    await repo?.close();
    const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
  beforeEach(() => {
    sent = [];
  });

  let keys = 0;
  const items = (n: number) =>
    ['sku-espresso', 'sku-filter', 'sku-mug', 'sku-kettle']
      .slice(0, n)
      .map((productId) => ({ productId, quantity: 1 }));

  it.each([1, 2, 4])('places an order of %i item(s) in 2 round trips per command (at most 3)', async (n) => {
    const body = { items: items(n) };
    const key = `rt-${n}-${++keys}`;
    const tenant = (await repo.getTenant('acme'))!;
    const saga = new CheckoutSaga(repo, oneAttempt, gateway);
    const checkout = new Checkout(
      repo,
      { inventory: (work) => work(), tenantCheckout: (_t, work) => work() },
      saga,
    );

    const created = await counted(() =>
      repo.createOrder({
        tenantId: 'acme',
        idempotencyKey: key,
        requestHash: requestHash(body),
        items: body.items,
      }),
    );
    const placed = created.result;
    if (placed.outcome !== 'created') throw new Error(`expected created, got ${placed.outcome}`);
    const paid = await counted(() => saga.charge(placed.order, undefined));
    expect(paid.result.status).toBe('confirmed');

    // What the fulfilment consumer does with the confirmation, in the background of the same checkout.
    const fulfilled = await counted(() =>
      repo.fulfilOrder({
        consumer: 'fulfilment',
        eventId: `e-${key}`,
        tenantId: 'acme',
        orderId: placed.order.id,
      }),
    );
    expect(fulfilled.result).toBe('fulfilled');

    const report = {
      n,
      createOrder: created.sent.length,
      recordPayment: paid.sent.length,
      fulfilOrder: fulfilled.sent.length,
    };
    console.log(`round trips per checkout: ${JSON.stringify(report)}`);
    // The products read, then the order written whole; the order's stream read, then the outcome written whole;
    // the same for the fulfilment.
    expect(report).toEqual({ n, createOrder: 2, recordPayment: 2, fulfilOrder: 2 });
    // Nothing but the commands themselves: no transaction control statement is sent where one statement does.
    expect([...created.sent, ...paid.sent, ...fulfilled.sent].filter((q) => isControl(q.sql))).toEqual([]);

    // The whole use case, replayed with the same key: one command, answered from the order as stored.
    const replay = await counted((): Promise<CheckoutOutcome> =>
      checkout.place(tenant, key, body, undefined),
    );
    expect(replay.result).toMatchObject({ kind: 'placed', replayed: true });
    const again = await repo.fulfilOrder({
      consumer: 'fulfilment',
      eventId: `e-${key}`,
      tenantId: 'acme',
      orderId: placed.order.id,
    });
    expect(again).toBe('duplicate');
    expect(replay.sent.length).toBeLessThanOrEqual(4);
  });

  it('writes the same rows as the per-statement form: projections, outbox, audit, usage and stock', async () => {
    const body = { items: items(2) };
    const before = await repo.getProduct('acme', 'sku-espresso');
    const created = await repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: `rows-${++keys}`,
      requestHash: requestHash(body),
      items: body.items,
    });
    if (created.outcome !== 'created') throw new Error(created.outcome);
    const order = created.order;
    await new CheckoutSaga(repo, oneAttempt, gateway).charge(order, undefined);
    const q = async (sql: string) => (await pool.query<Record<string, unknown>>(sql, [order.id])).rows;
    expect(await q('SELECT version, type FROM order_events WHERE order_id = $1 ORDER BY version')).toEqual([
      { version: 1, type: 'order.created' },
      { version: 2, type: 'order.confirmed' },
    ]);
    expect(await q('SELECT status, version, payment_id FROM orders WHERE id = $1')).toEqual([
      { status: 'confirmed', version: 2, payment_id: `ch_${order.id}` },
    ]);
    expect(await q('SELECT product_id FROM order_items WHERE order_id = $1 ORDER BY line')).toEqual([
      { product_id: 'sku-espresso' },
      { product_id: 'sku-filter' },
    ]);
    expect(await q('SELECT count(*)::int AS n FROM stock_reservations WHERE order_id = $1')).toEqual([
      { n: 2 },
    ]);
    expect(await q('SELECT count(*)::int AS n FROM checkout_sagas WHERE order_id = $1')).toEqual([{ n: 0 }]);
    expect(await q('SELECT type FROM outbox WHERE aggregate_id = $1 ORDER BY seq')).toEqual([
      { type: 'order.created' },
      { type: 'order.confirmed' },
    ]);
    expect(await q('SELECT count(*)::int AS n FROM usage_events WHERE subject = $1')).toEqual([{ n: 1 }]);
    const audit = await q('SELECT action, tenant_seq FROM audit_log WHERE target_id = $1 ORDER BY seq');
    expect(audit.map((r) => r.action)).toEqual(['order.created', 'order.confirmed']);
    expect(Number(audit[1]!.tenant_seq)).toBe(Number(audit[0]!.tenant_seq) + 1);
    expect((await repo.getProduct('acme', 'sku-espresso'))!.stock).toBe(before!.stock - 1);
  });

  it('keeps stock, reservations and audit numbers exact when checkouts of the same products race crosswise', async () => {
    await repo.setStock('acme', 'sku-scale', 10);
    await repo.setStock('acme', 'sku-grinder', 1000);
    const sequence = await pool.query<{ last: string }>(
      "SELECT last FROM audit_sequences WHERE scope = 'acme'",
    );
    const auditBefore = Number(sequence.rows[0]?.last ?? 0);
    // 16 checkouts of 2 scales each, half listing the grinder first: 5 fit in the 10 scales, the others find too
    // little stock; none deadlocks (the stock rows are locked in product-id order whatever the request's order).
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) => {
        const lines = [
          { productId: 'sku-scale', quantity: 2 },
          { productId: 'sku-grinder', quantity: 1 },
        ];
        const body = { items: i % 2 === 0 ? lines : [...lines].reverse() };
        return repo.createOrder({
          tenantId: 'acme',
          idempotencyKey: `race-${++keys}`,
          requestHash: requestHash(body),
          items: body.items,
        });
      }),
    );
    const placed = results.filter((r) => r.outcome === 'created');
    expect(placed).toHaveLength(5);
    for (const r of results.filter((r) => r.outcome !== 'created')) {
      expect(r).toMatchObject({ outcome: 'insufficient_stock', productId: 'sku-scale', requested: 2 });
    }
    expect((await repo.getProduct('acme', 'sku-scale'))!.stock).toBe(0);
    expect((await repo.getProduct('acme', 'sku-grinder'))!.stock).toBe(995);
    const ids = placed.map((r) => ('order' in r ? r.order.id : ''));
    const reserved = await pool.query(
      'SELECT product_id, sum(quantity)::int AS units FROM stock_reservations WHERE order_id = ANY($1) GROUP BY 1 ORDER BY 1',
      [ids],
    );
    expect(reserved.rows).toEqual([
      { product_id: 'sku-grinder', units: 5 },
      { product_id: 'sku-scale', units: 10 },
    ]);
    // One audit entry per placed order, numbered on from where the tenant was, without gaps or repeats.
    const numbers = await pool.query<{ tenant_seq: string }>(
      "SELECT tenant_seq FROM audit_log WHERE tenant_id = 'acme' AND tenant_seq > $1 ORDER BY tenant_seq",
      [auditBefore],
    );
    expect(numbers.rows.map((r) => Number(r.tenant_seq))).toEqual(
      Array.from({ length: 5 }, (_, i) => auditBefore + i + 1),
    );
  });
});
