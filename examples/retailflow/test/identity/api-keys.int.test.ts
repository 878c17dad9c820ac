import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import pg from 'pg';
import {
  createPostgresRepository,
  createSqliteRepository,
  type SqlRepository,
} from '../../src/data/index.js';
import { SqlApiKeyStore } from '../../src/identity/api-keys.js';

const postgres = testService('postgres');
const schema = `rf_keys_${process.pid}_${randomBytes(3).toString('hex')}`;

const stores: [string, boolean, (clock: ManualClock) => Promise<SqlRepository>][] = [
  ['SQLite', false, (clock) => createSqliteRepository({ clock })],
  [
    'PostgreSQL',
    postgres.skip,
    (clock) => createPostgresRepository({ connectionString: postgres.url, schema, clock }),
  ],
];

afterAll(async () => {
  if (postgres.skip) return;
  const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

describe.each(stores)('API key lifecycle on %s', (_name, skip, open) => {
  it.skipIf(skip)('issues, verifies, rotates with overlap, revokes and records last use', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const repo = await open(clock);
    try {
      await repo.upsertTenant({ id: 'acme', name: 'Acme', plan: 'pro', apiKeyHash: 'h-acme' });
      await repo.upsertTenant({ id: 'globex', name: 'Globex', plan: 'free', apiKeyHash: 'h-globex' });
      const keys = new SqlApiKeyStore(repo.driver, { clock, lastUseResolutionMs: 60_000 });

      const first = await keys.issue('acme', 'checkout-service', 'jwt:alice@retailflow-web');
      expect(first.secret).toMatch(/^rfk_[a-f0-9]{16}_[\w-]{43}$/);
      // Only the hash is stored.
      const raw = await repo.driver.read((s) => s.all('SELECT * FROM api_keys'));
      expect(JSON.stringify(raw)).not.toContain(first.secret.slice(21));
      expect(await keys.verify(first.secret)).toEqual({ id: first.id, tenantId: 'acme' });
      // One character changed (never to itself: a secret ending in `A` would otherwise verify).
      expect(
        await keys.verify(`${first.secret.slice(0, -1)}${first.secret.endsWith('A') ? 'B' : 'A'}`),
      ).toBeUndefined();
      expect(await keys.verify('rf_acme_dev_key')).toBeUndefined();

      // Last use is written at most once per resolution.
      await keys.settled();
      expect((await keys.get('acme', first.id))?.lastUsedAt).toBe(clock.now());
      clock.advance(30_000);
      await keys.verify(first.secret);
      await keys.settled();
      expect((await keys.get('acme', first.id))?.lastUsedAt).toBe(clock.now() - 30_000);

      // Rotation: both work during the overlap, only the successor after it.
      const second = await keys.rotate('acme', first.id, 3_600_000, 'admin-key');
      expect(second).toMatchObject({ tenantId: 'acme', name: 'checkout-service', replaces: first.id });
      expect(await keys.verify(first.secret)).toBeDefined();
      expect(await keys.verify(second!.secret)).toBeDefined();
      clock.advance(3_600_000);
      expect(await keys.verify(first.secret)).toBeUndefined();
      expect(await keys.verify(second!.secret)).toEqual({ id: second!.id, tenantId: 'acme' });
      // Another tenant cannot rotate or revoke acme's key.
      expect(await keys.rotate('globex', second!.id, 0, 'x')).toBeUndefined();
      expect(await keys.revoke('globex', second!.id)).toBe(false);

      expect(await keys.revoke('acme', second!.id)).toBe(true);
      expect(await keys.revoke('acme', second!.id)).toBe(false);
      expect(await keys.verify(second!.secret)).toBeUndefined();
      expect(await keys.rotate('acme', second!.id, 0, 'x')).toBeUndefined();

      const listed = await keys.list('acme');
      expect(listed.map((k) => k.id)).toEqual([second!.id, first.id]);
      expect(listed[0]).toMatchObject({ revokedAt: clock.now(), createdBy: 'admin-key' });
      expect(listed[1]).toMatchObject({ createdBy: 'jwt:alice@retailflow-web' });
      expect(JSON.stringify(listed)).not.toMatch(/rfk_/);
      expect(await keys.list('globex')).toEqual([]);
    } finally {
      await repo.close();
    }
  });
});
