import type { SloSnapshotStore } from '@ballast/slo';
import type { SqlDriver } from './sql-driver.js';

/**
 * The SLO engine's snapshot in the service's own database (table `slo_snapshots`, migration 14): one row per
 * `key`, overwritten by each save. A save never replaces a newer snapshot (two instances sharing a key by
 * mistake, or a slow save finishing after a faster later one): the row keeps the latest `taken_at`.
 *
 * @example
 * ```ts
 * const store = sqlSnapshotStore(repo.driver, 'retailflow');
 * const persistence = await persistSloEngine(engine, { store });
 * ```
 */
export function sqlSnapshotStore(driver: SqlDriver, key: string): SloSnapshotStore {
  return {
    async load() {
      const rows = await driver.read((s) => s.all('SELECT snapshot FROM slo_snapshots WHERE key = ?', [key]));
      const snapshot = rows[0]?.snapshot;
      return typeof snapshot === 'string' ? snapshot : undefined;
    },
    async save(snapshot, takenAt) {
      await driver.transaction((s) =>
        s.run(
          `INSERT INTO slo_snapshots (key, snapshot, taken_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET snapshot = excluded.snapshot, taken_at = excluded.taken_at
           WHERE slo_snapshots.taken_at <= excluded.taken_at`,
          [key, snapshot, Math.floor(takenAt)],
        ),
      );
    },
  };
}
