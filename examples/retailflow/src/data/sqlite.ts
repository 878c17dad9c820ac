import { systemClock } from '@ballast/core';
import { applyMigrations } from './migrate.js';
import { SqlRepository, type RepositoryOptions } from './sql-repository.js';
import { SqliteDriver } from './sqlite-driver.js';

/** Options of {@link createSqliteRepository}. */
export interface SqliteRepositoryOptions extends RepositoryOptions {
  /** Database file, or `':memory:'` for a private in-memory database. @default ':memory:' */
  readonly path?: string;
}

/**
 * Opens the embedded SQLite store (better-sqlite3) and applies pending migrations. A file database runs in WAL
 * mode; all operations of one repository are serialised (SQLite has a single writer).
 *
 * @example
 * ```ts
 * import { createSqliteRepository } from './data/index.js';
 * const repo = await createSqliteRepository({ path: ':memory:' });
 * ```
 */
export async function createSqliteRepository(options: SqliteRepositoryOptions = {}): Promise<SqlRepository> {
  const driver = new SqliteDriver(options.path ?? ':memory:');
  try {
    await applyMigrations(driver, options.clock ?? systemClock);
  } catch (error) {
    await driver.close();
    throw error;
  }
  return new SqlRepository(driver, options);
}
