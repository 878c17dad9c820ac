import pg from 'pg';
import { testService } from '@ballast/testkit/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { renderMetrics } from '../src/exposition.js';
import { observePgPool } from '../src/use/pg-pool.js';
import { parseExposition } from './support/exposition-parser.js';
import { sampleValue } from './support/http.js';

const postgres = testService('postgres');

describe.skipIf(postgres.skip)('observePgPool with a real pg Pool', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
  });
  afterAll(() => pool.end());

  it('publishes total, idle, active and waiting from the live pool', async () => {
    const metrics = createMetricsRegistry();
    observePgPool(metrics, pool, { name: 'test' });
    const a = await pool.connect();
    const b = await pool.connect();
    const waiting = pool.query('SELECT 1'); // no connection left: waits
    const scrape = async () => parseExposition(await renderMetrics(metrics, 'prometheus')).families;
    let f = await scrape();
    const v = (name: string, labels: Record<string, string>) => sampleValue(f.get(name), name, labels);
    expect(v('ballast_pg_pool_connections', { pool: 'test', state: 'total' })).toBe(2);
    expect(v('ballast_pg_pool_connections', { pool: 'test', state: 'active' })).toBe(2);
    expect(v('ballast_pg_pool_waiting_clients', { pool: 'test' })).toBe(1);
    expect(v('ballast_pg_pool_max_connections', { pool: 'test' })).toBe(2);
    expect(v('ballast_pg_pool_utilization_ratio', { pool: 'test' })).toBe(1);
    a.release();
    await waiting;
    b.release();
    f = await scrape();
    expect(v('ballast_pg_pool_waiting_clients', { pool: 'test' })).toBe(0);
    expect(v('ballast_pg_pool_connections', { pool: 'test', state: 'idle' })).toBe(2);
    expect(v('ballast_pg_pool_connections', { pool: 'test', state: 'active' })).toBe(0);
  });
});
