import { setTimeout as sleep } from 'node:timers/promises';
import { invalidOption, systemClock, type Clock } from '@ballast/core';
import pg from 'pg';
import { applyMigrations } from './migrate.js';
import { PostgresDriver } from './postgres-driver.js';
import { SqlRepository, type RepositoryOptions } from './sql-repository.js';

/** Options of {@link createPostgresRepository}. */
export interface PostgresRepositoryOptions extends RepositoryOptions {
  /** A `postgres://` URL (`DATABASE_URL`). Required unless `pool` is given. */
  readonly connectionString?: string;
  /** Use this pool instead of making one; `close()` still ends it. */
  readonly pool?: pg.Pool;
  /**
   * Schema that holds RetailFlow's tables (created when missing); every connection of the pool made here gets
   * it as `search_path`. Tests use a unique schema per run. Ignored when `pool` is given.
   * @default 'public'
   */
  readonly schema?: string;
  /** Largest number of pooled connections. @default 10 */
  readonly max?: number;
  /**
   * How long to wait, at start-up, for the database to be a primary when it is a hot standby (the warm instances of
   * a standby region start against their region's standby and come up when it is promoted). 0 fails at once on a
   * standby, as every write would.
   * @default 0
   */
  readonly waitForPrimaryMs?: number;
  /**
   * Distinct statement texts each connection prepares (parsed and planned once, then only bound and executed); 0
   * prepares none, for a pooler in transaction mode that does not track prepared statements.
   * @default 200
   */
  readonly preparedStatements?: number;
}

/**
 * The PostgreSQL adapter: a {@link SqlRepository} that also exposes its pool for USE metrics. Make one with
 * {@link createPostgresRepository}.
 *
 * @example
 * ```ts
 * const repo = await createPostgresRepository({ connectionString: url });
 * const saturation = repo.pool.waitingCount;
 * ```
 */
export class PostgresRepository extends SqlRepository {
  /**
   * The connection pool: `totalCount`, `idleCount` and `waitingCount` are the utilisation and saturation of the
   * database connections.
   */
  readonly pool: pg.Pool;

  constructor(driver: PostgresDriver, options: RepositoryOptions = {}) {
    super(driver, options);
    this.pool = driver.pool;
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Connects to PostgreSQL, creates the schema if asked, applies pending migrations (concurrent starts take turns
 * on an advisory lock) and returns the repository.
 *
 * @example
 * ```ts
 * import { createPostgresRepository } from './data/index.js';
 * const repo = await createPostgresRepository({ connectionString: process.env.DATABASE_URL! });
 * setInterval(() => console.log(repo.pool.totalCount, repo.pool.idleCount, repo.pool.waitingCount), 10_000);
 * ```
 */
export async function createPostgresRepository(
  options: PostgresRepositoryOptions,
): Promise<PostgresRepository> {
  let pool = options.pool;
  if (!pool) {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw invalidOption('connectionString', 'a postgres:// URL', options.connectionString);
    }
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) {
      throw invalidOption('schema', 'a lower-case SQL identifier (letters, digits, _)', schema);
    }
    pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      ...(schema === 'public' ? {} : { options: `-c search_path=${schema}` }),
    });
    // An idle client that loses its connection emits on the pool; without a listener that would crash the process.
    pool.on('error', () => undefined);
    if (schema !== 'public') {
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (error) {
        // Two instances creating the schema at once: the loser sees a unique violation; the schema exists.
        if ((error as { code?: unknown }).code !== '23505') {
          await pool.end();
          throw error;
        }
      }
    }
  }
  const driver = new PostgresDriver(
    pool,
    options.preparedStatements === undefined ? {} : { preparedStatements: options.preparedStatements },
  );
  try {
    if ((options.waitForPrimaryMs ?? 0) > 0) {
      await waitForPrimary(pool, options.waitForPrimaryMs ?? 0, options.clock ?? systemClock);
    }
    await applyMigrations(driver, options.clock ?? systemClock);
  } catch (error) {
    await driver.close();
    throw error;
  }
  return new PostgresRepository(driver, options);
}

/** Polls `pg_is_in_recovery()` every 250 ms until the server is a primary; rejects after `timeoutMs`. */
async function waitForPrimary(pool: pg.Pool, timeoutMs: number, clock: Clock): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    let standby = true;
    try {
      const { rows } = await pool.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
      standby = rows[0]?.standby === true;
    } catch (error) {
      if (clock.now() >= deadline) throw error;
    }
    if (!standby) return;
    if (clock.now() >= deadline) {
      throw new Error(
        `the database is still a read-only standby after waiting ${timeoutMs} ms for a promotion`,
      );
    }
    await sleep(250);
  }
}
