import { randomBytes } from 'node:crypto';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresRepository, migrations } from '../src/data/index.js';
import { PostgresDriver } from '../src/data/postgres-driver.js';
import { repositoryContract } from './data-contract.js';

const postgres = testService('postgres');
const runId = `rf_${process.pid}_${randomBytes(3).toString('hex')}`;
let admin: pg.Pool;

describe.skipIf(postgres.skip)('PostgreSQL adapter', () => {
  beforeAll(() => {
    admin = new pg.Pool({ connectionString: postgres.url, max: 2 });
  });
  afterAll(async () => {
    // Every schema this run made, including any a failed test left behind.
    const { rows } = await admin.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${runId}%`],
    );
    for (const { nspname } of rows) await admin.query(`DROP SCHEMA ${nspname} CASCADE`);
    await admin.end();
  });

  // One schema for the contract suite, emptied after each test (cheaper than migrating a schema per test).
  const contractSchema = `${runId}_contract`;
  repositoryContract('PostgreSQL', {
    open: (clock) =>
      createPostgresRepository({ connectionString: postgres.url, schema: contractSchema, clock, max: 8 }),
    async dispose() {
      await admin.query(
        `TRUNCATE ${[
          'tenants',
          'products',
          'orders',
          'order_items',
          'audit_log',
          'outbox',
          'processed_events',
          'shipments',
          'flag_overrides',
          'api_keys',
          'usage_events',
          'billing_accounts',
          'order_events',
          'stock_reservations',
          'checkout_sagas',
        ]
          .map((t) => `${contractSchema}.${t}`)
          .join(', ')} RESTART IDENTITY`,
      );
    },
  });

  it('migrates once even when two instances start at the same time, exposes its pool and health', async () => {
    const schema = `${runId}_mig`;
    const clock = new ManualClock(0);
    const [a, b] = await Promise.all([
      createPostgresRepository({ connectionString: postgres.url, schema, clock }),
      createPostgresRepository({ connectionString: postgres.url, schema, clock }),
    ]);
    const { rows } = await a.pool.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY 1',
    );
    expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
    expect(a.pool.totalCount).toBeGreaterThan(0);
    expect(typeof a.pool.idleCount).toBe('number');
    expect(a.pool.waitingCount).toBe(0);
    await expect(b.health()).resolves.toBeUndefined();
    await expect(a.pool.query("UPDATE audit_log SET actor = 'x'")).resolves.toBeDefined(); // no rows: no trigger
    await a.appendAudit({
      tenantId: null,
      actor: 'admin',
      action: 'chaos.set',
      targetType: 'c',
      targetId: 'x',
    });
    await expect(a.pool.query("UPDATE audit_log SET actor = 'x'")).rejects.toThrow('append-only');
    await a.close();
    await b.close();
  });

  it('fails to open, and fails health, when the database is unreachable', async () => {
    const unreachable = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test', max: 1 });
    unreachable.on('error', () => undefined);
    await expect(createPostgresRepository({ pool: unreachable })).rejects.toThrow();
    const repo = await createPostgresRepository({ connectionString: postgres.url, schema: `${runId}_h` });
    await expect(repo.health()).resolves.toBeUndefined();
    await repo.close();
    await expect(repo.health()).rejects.toThrow();
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(
      createPostgresRepository({ connectionString: postgres.url, schema: 'x; DROP TABLE y' }),
    ).rejects.toThrow('Expected `schema` to be a lower-case SQL identifier');
  });
});

describe.skipIf(postgres.skip)('PostgresDriver when the database drops a connection mid-transaction', () => {
  it('fails that transaction and keeps the process alive (a restart of PostgreSQL once crashed the service)', async () => {
    const pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on('error', () => undefined);
    const driver = new PostgresDriver(pool);
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    // vitest turns an uncaught exception into a failed run; listening here lets the test say what happened.
    process.on('uncaughtException', onUncaught);
    try {
      let pid = 0;
      const tx = driver.transaction(async (s) => {
        pid = Number((await s.all('SELECT pg_backend_pid() AS pid'))[0]!.pid);
        // Between two statements, as a checkout is while it computes its order: the backend is terminated
        // (what a PostgreSQL restart does to every connection).
        const killer = new pg.Client({ connectionString: postgres.url });
        await killer.connect();
        await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        await killer.end();
        await new Promise((resolve) => setTimeout(resolve, 200)); // let the FATAL and the close arrive
        return s.all('SELECT 1 AS one');
      });
      await expect(tx).rejects.toThrow();
      expect(uncaught).toEqual([]);
      // The pool replaced the dead client: the next transaction works.
      await expect(driver.transaction((s) => s.all('SELECT 2 AS two'))).resolves.toEqual([{ two: 2 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await pool.end();
    }
  });
});
