import { ManualClock, systemClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { applyMigrations, createSqliteRepository, migrations, SqlRepository } from '../src/data/index.js';
import { SqliteDriver } from '../src/data/sqlite-driver.js';
import { repositoryContract } from './data-contract.js';

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
