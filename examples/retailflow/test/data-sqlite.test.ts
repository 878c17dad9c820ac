import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import {
  applyMigrations,
  createSqliteRepository,
  migrations,
  openRepository,
  requestHash,
  seedDemoData,
  SqlRepository,
} from '../src/data/index.js';
import { SqliteDriver } from '../src/data/sqlite-driver.js';
import { KEYS, repositoryContract } from './data-contract.js';

repositoryContract('SQLite', {
  open: (clock) => createSqliteRepository({ path: ':memory:', clock }),
});

describe('SQLite migrations', () => {
  it('applies every migration once and records it; a second run applies nothing', async () => {
    const driver = new SqliteDriver(':memory:');
    const clock = new ManualClock(5);
    expect(await applyMigrations(driver, clock)).toEqual(migrations.map((m) => m.version));
    expect(await applyMigrations(driver, clock)).toEqual([]);
    const rows = await driver.read((s) =>
      s.all('SELECT version, applied_at FROM schema_migrations ORDER BY version'),
    );
    expect(rows).toEqual(migrations.map((m) => ({ version: m.version, applied_at: 5 })));
    await driver.close();
  });

  it('keeps the audit log append-only', async () => {
    const driver = new SqliteDriver(':memory:');
    await applyMigrations(driver, systemClock);
    const repo = new SqlRepository(driver);
    await repo.appendAudit({
      tenantId: null,
      actor: 'admin',
      action: 'chaos.set',
      targetType: 'chaos',
      targetId: 'x',
    });
    await expect(driver.read((s) => s.run("UPDATE audit_log SET actor = 'someone'"))).rejects.toThrow(
      'audit_log is append-only',
    );
    await expect(driver.read((s) => s.run('DELETE FROM audit_log'))).rejects.toThrow(
      'audit_log is append-only',
    );
    await repo.close();
  });

  it('rolls a failed transaction back completely', async () => {
    const driver = new SqliteDriver(':memory:');
    await applyMigrations(driver, systemClock);
    await expect(
      driver.transaction(async (s) => {
        await s.run("INSERT INTO tenants VALUES ('t', 'T', 'free', 'h', 0)");
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await driver.read((s) => s.all('SELECT * FROM tenants'))).toEqual([]);
    await driver.close();
  });
});

describe('SQLite file database', () => {
  it('keeps data across reopening, and migrates only once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retailflow-'));
    try {
      const path = join(dir, 'retailflow.db');
      const first = await openRepository({ sqlitePath: path });
      expect(first.kind).toBe('sqlite');
      await seedDemoData(first, { apiKeys: KEYS });
      const items = [{ productId: 'sku-grinder', quantity: 2 }];
      const created = await first.createOrder({
        tenantId: 'globex',
        idempotencyKey: 'persisted',
        requestHash: requestHash({ items }),
        items,
      });
      await first.close();

      const driver = new SqliteDriver(path);
      expect(await applyMigrations(driver, systemClock)).toEqual([]);
      await driver.close();

      const second = await openRepository({ sqlitePath: path });
      const again = await second.findOrderByIdempotencyKey('globex', 'persisted');
      expect(created.outcome === 'created' && again?.id === created.order.id).toBe(true);
      expect((await second.getProduct('globex', 'sku-grinder'))?.stock).toBe(198);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
