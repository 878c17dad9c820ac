import type { Repository } from './repository.js';
import type { RepositoryOptions } from './sql-repository.js';
import { createPostgresRepository } from './postgres.js';
import { createSqliteRepository } from './sqlite.js';

/** Options of {@link openRepository}. */
export interface OpenRepositoryOptions extends RepositoryOptions {
  /** PostgreSQL only: wait this long at start-up for a standby to be promoted. @default 0 */
  readonly waitForPrimaryMs?: number | undefined;
  /** `DATABASE_URL`: when set, PostgreSQL is used. */
  readonly databaseUrl?: string | undefined;
  /** SQLite file when `databaseUrl` is not set. @default ':memory:' */
  readonly sqlitePath?: string;
  /** PostgreSQL schema (see `PostgresRepositoryOptions.schema`). @default 'public' */
  readonly schema?: string;
  /** PostgreSQL only: statements prepared per connection (see `PostgresRepositoryOptions`). @default 200 */
  readonly preparedStatements?: number | undefined;
}

/**
 * Opens PostgreSQL when `databaseUrl` is given, the embedded SQLite store otherwise; migrations are applied.
 *
 * @example
 * ```ts
 * import { openRepository } from './data/index.js';
 * const repo = await openRepository({ databaseUrl: process.env.DATABASE_URL, sqlitePath: 'retailflow.db' });
 * ```
 */
export function openRepository(options: OpenRepositoryOptions = {}): Promise<Repository> {
  const base: RepositoryOptions = {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.newId ? { newId: options.newId } : {}),
  };
  if (options.databaseUrl) {
    return createPostgresRepository({
      ...base,
      connectionString: options.databaseUrl,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.waitForPrimaryMs ? { waitForPrimaryMs: options.waitForPrimaryMs } : {}),
      ...(options.preparedStatements === undefined ? {} : { preparedStatements: options.preparedStatements }),
    });
  }
  return createSqliteRepository({ ...base, path: options.sqlitePath ?? ':memory:' });
}
