import { randomBytes } from 'node:crypto';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPostgresRepository,
  requestHash,
  seedDemoData,
  type PostgresRepository,
} from '../src/data/index.js';
import { StatementNames } from '../src/data/postgres-driver.js';
import { CheckoutSaga } from '../src/orders/saga.js';
import { chargingGateway as gateway, oneAttempt } from './helpers.js';

// Statements with parameters are prepared once per connection, so PostgreSQL parses and plans a checkout's
// statements once rather than on every checkout. What is checked here: which statements get a name, that the names
// are bounded, that a connection really holds them (pg_prepared_statements), and that a migration adding a column
// while they are prepared does not break the statements already prepared.

describe('StatementNames', () => {
  it('names a text once, the same name every time, and different texts differently', () => {
    const names = new StatementNames(10);
    const a = names.nameOf('SELECT stock FROM products WHERE tenant_id = $1');
    expect(a).toMatch(/^rf_[0-9a-f]{20}$/);
    expect(names.nameOf('SELECT stock FROM products WHERE tenant_id = $1')).toBe(a);
    expect(new StatementNames(10).nameOf('SELECT stock FROM products WHERE tenant_id = $1')).toBe(a);
    expect(names.nameOf('SELECT name FROM products WHERE tenant_id = $1')).not.toBe(a);
    expect(names.size).toBe(2);
  });

  it('leaves a statement whose result is `*` unnamed: a column added later would change its result', () => {
    const names = new StatementNames(10);
    expect(names.nameOf('SELECT * FROM orders WHERE id = $1')).toBeUndefined();
    expect(names.nameOf('select o.* from orders o where id = $1')).toBeUndefined();
    expect(names.nameOf('UPDATE products SET stock = $1 WHERE id = $2 RETURNING *')).toBeUndefined();
    // count(*) is one column whatever the table holds.
    expect(
      names.nameOf('WITH x AS (SELECT 1) SELECT (SELECT count(*) FROM x) AS n WHERE $1 = 1'),
    ).toBeDefined();
    expect(names.size).toBe(1);
  });

  it('names at most `max` texts; the rest are sent unnamed', () => {
    const names = new StatementNames(3);
    const named = Array.from({ length: 10 }, (_, i) => names.nameOf(`SELECT ${i} WHERE $1 = 1`));
    expect(named.filter((n) => n !== undefined)).toHaveLength(3);
    expect(named.slice(0, 3).every((n) => n !== undefined)).toBe(true);
    expect(names.size).toBe(3);
    // An endless variety of texts keeps memory bounded and still names none of them.
    for (let i = 0; i < 10_000; i++) expect(names.nameOf(`SELECT ${i + 100} WHERE $1 = 1`)).toBeUndefined();
  });
});

const postgres = testService('postgres');

describe.skipIf(postgres.skip)('prepared statements on PostgreSQL', () => {
  const schemas: string[] = [];
  const repos: PostgresRepository[] = [];

  /** A repository on a schema of its own, on a pool of one connection (what it prepared is that session's). */
  async function open(preparedStatements?: number) {
    const schema = `rf_ps_${process.pid}_${randomBytes(3).toString('hex')}`;
    schemas.push(schema);
    const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    const pool = new pg.Pool({ connectionString: postgres.url, max: 1, options: `-c search_path=${schema}` });
    pool.on('error', () => undefined);
    const sent: { name: string | undefined; text: string }[] = [];
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { name?: string; text: string };
        sent.push(
          typeof first === 'string'
            ? { name: undefined, text: first }
            : { name: first.name, text: first.text },
        );
        return query(...args);
      };
    });
    const repo = await createPostgresRepository({
      pool,
      clock: new ManualClock(Date.UTC(2026, 0, 5)),
      ...(preparedStatements === undefined ? {} : { preparedStatements }),
    });
    repos.push(repo);
    await seedDemoData(repo, { apiKeys: { acme: `acme-${schema}`, globex: `globex-${schema}` } });
    return { repo, pool, sent };
  }

  let keys = 0;
  async function checkout(repo: PostgresRepository, items: readonly string[]) {
    const body = { items: items.map((productId) => ({ productId, quantity: 1 })) };
    const created = await repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: `ps-${++keys}`,
      requestHash: requestHash(body),
      items: body.items,
    });
    if (created.outcome !== 'created') throw new Error(`expected created, got ${created.outcome}`);
    const paid = await new CheckoutSaga(repo, oneAttempt, gateway).charge(created.order, undefined);
    expect(paid.status).toBe('confirmed');
    const fulfilled = await repo.fulfilOrder({
      consumer: 'fulfilment',
      eventId: `e-${keys}`,
      tenantId: 'acme',
      orderId: created.order.id,
    });
    expect(fulfilled).toBe('fulfilled');
  }

  afterAll(async () => {
    for (const repo of repos) await repo.close();
    const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it("sends every statement of a checkout's commands prepared, and the connection keeps them", async () => {
    const { repo, pool, sent } = await open();
    await checkout(repo, ['sku-espresso', 'sku-filter']);
    sent.length = 0;
    await checkout(repo, ['sku-espresso', 'sku-filter']);
    // The products read, the order written whole, its stream read, the payment written whole, the fulfilment's.
    const commands = sent.splice(0);
    expect(commands.length).toBeGreaterThanOrEqual(6);
    expect(commands.filter((q) => q.name === undefined).map((q) => q.text)).toEqual([]);
    const held = await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
    const names = new Set(held.rows.map((r) => r.name));
    for (const q of commands) expect(names.has(q.name!)).toBe(true);
  });

  it('prepares nothing with preparedStatements 0', async () => {
    const { repo, pool, sent } = await open(0);
    await checkout(repo, ['sku-mug']);
    expect(sent.filter((q) => q.name !== undefined)).toEqual([]);
    const held = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements');
    expect(held.rows[0]!.n).toBe(0);
  });

  it('keeps working when a migration adds columns to the tables its prepared statements read', async () => {
    const { repo, pool } = await open();
    await checkout(repo, ['sku-kettle', 'sku-mug']);
    await checkout(repo, ['sku-kettle', 'sku-mug']);
    // What a later release's migration may do while this instance runs.
    await pool.query('ALTER TABLE products ADD COLUMN weight_grams INTEGER');
    await pool.query('ALTER TABLE order_events ADD COLUMN region TEXT');
    await pool.query('ALTER TABLE orders ADD COLUMN note TEXT');
    await checkout(repo, ['sku-kettle', 'sku-mug']);
    expect((await repo.getProduct('acme', 'sku-kettle'))?.id).toBe('sku-kettle');
  });
});
