import { randomUUID } from 'node:crypto';
import { testService } from '@ballast/testkit/vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { PostgresLeaseStore } from '../src/lock/PostgresLeaseStore.js';
import { RedisLeaseStore } from '../src/lock/RedisLeaseStore.js';
import { leaseStoreContract } from './lock-contract.js';

const redis = testService('redis');
const postgres = testService('postgres');

describe.skipIf(redis.skip)('RedisLeaseStore against the shared Redis', () => {
  const client = new Redis(redis.url, { lazyConnect: true });
  const prefix = `ballast-test:lock:${randomUUID()}:`;
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });
  leaseStoreContract((clock) =>
    Promise.resolve({
      store: new RedisLeaseStore({ client, prefix, time: 'client', clock }),
      key: randomUUID(),
    }),
  );
});

describe.skipIf(postgres.skip)('PostgresLeaseStore against the shared PostgreSQL', () => {
  const pool = new pg.Pool({ connectionString: postgres.url, max: 8 });
  const tables: string[] = [];
  afterAll(async () => {
    for (const t of tables) await pool.query(`DROP TABLE IF EXISTS ${t}`);
    await pool.end();
  });
  leaseStoreContract(async (clock) => {
    const table = `ballast_test_leases_${randomUUID().replaceAll('-', '')}`;
    tables.push(table);
    const store = new PostgresLeaseStore({
      query: (text, values) => pool.query(text, values),
      table,
      time: 'client',
      clock,
    });
    await store.ensureTable();
    return { store, key: 'relay' };
  });
});
