import type { Clock } from '@ballast/core';
import { migrations as defaultMigrations, type Migration } from './migrations.js';
import type { SqlDriver } from './sql-driver.js';

/** Key of the PostgreSQL advisory lock that serialises concurrent migration runs (two instances starting). */
const MIGRATION_LOCK_KEY = 7_211_906;

/**
 * Applies every migration not yet recorded in `schema_migrations`, each in its own transaction, in version order.
 * Idempotent: a second run applies nothing. On PostgreSQL an advisory lock makes concurrent runs take turns.
 * Resolves with the versions applied by this call.
 *
 * @example
 * ```ts
 * const applied = await applyMigrations(driver, systemClock); // [1, 2, 3, 4, 5] on an empty database
 * ```
 */
export async function applyMigrations(
  driver: SqlDriver,
  clock: Clock,
  list: readonly Migration[] = defaultMigrations,
): Promise<number[]> {
  const sorted = [...list].sort((a, b) => a.version - b.version);
  await driver.transaction(async (s) => {
    if (driver.dialect === 'postgres') await s.all('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    await s.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
  });
  const applied: number[] = [];
  for (const migration of sorted) {
    const done = await driver.transaction(async (s) => {
      if (driver.dialect === 'postgres') await s.all('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
      const rows = await s.all('SELECT version FROM schema_migrations WHERE version = ?', [
        migration.version,
      ]);
      if (rows.length > 0) return false;
      await s.exec(migration.sql(driver.dialect));
      await s.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Math.floor(clock.now()),
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
