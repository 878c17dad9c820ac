import { randomBytes } from 'node:crypto';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresRepository, seedDemoData } from '../../src/data/index.js';

// Found by the proof: two RetailFlow instances of a fleet started at once on an empty database, and one exited at
// start with `duplicate key value violates unique constraint "tenants_api_key_hash_key"`. Both seeded the demo
// tenants: each INSERT ... ON CONFLICT (id) found no row yet, both inserted, and the second collided on the API key
// hash, a unique index the upsert's conflict target does not cover. A replica set rolled out at once must start.

const postgres = testService('postgres');
const schema = `rf_seed_${process.pid}_${randomBytes(3).toString('hex')}`;

describe.skipIf(postgres.skip)('instances seeding the same tenants at once', () => {
  const admin = postgres.skip ? undefined : new pg.Pool({ connectionString: postgres.url, max: 1 });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
  });

  it('all start, and the tenants are stored once', async () => {
    const clock = new ManualClock(0);
    const instances = await Promise.all(
      Array.from({ length: 6 }, () =>
        createPostgresRepository({ connectionString: postgres.url, schema, clock }),
      ),
    );
    try {
      const apiKeys = { acme: 'rf_acme_demo_key', globex: 'rf_globex_demo_key' };
      // Each round starts from no tenants, as a fresh database does; the instances seed together.
      for (let round = 0; round < 20; round++) {
        await admin!.query(`TRUNCATE ${schema}.tenants CASCADE`);
        const seeded = await Promise.allSettled(instances.map((repo) => seedDemoData(repo, { apiKeys })));
        const failed = seeded.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        expect(
          failed.map((f) => String(f.reason)),
          `round ${round}`,
        ).toEqual([]);
      }
      const { rows } = await admin!.query<{ id: string }>(`SELECT id FROM ${schema}.tenants ORDER BY id`);
      expect(rows.map((r) => r.id)).toEqual(['acme', 'globex']);
    } finally {
      await Promise.all(instances.map((repo) => repo.close()));
    }
  });
});
