import { checkOneOf, invalidOption, systemClock, type Clock } from '@ballast/core';
import type { Lease, LeaseStore } from './Lease.js';
import { checkLeaseArgs } from './checks.js';

/**
 * The one thing the store needs from a PostgreSQL client: `pg`'s `Pool#query` or `Client#query` fits as is
 * (structural typing; this package does not depend on `pg`).
 */
export type SqlQuery = (
  text: string,
  values?: unknown[],
) => Promise<{ readonly rows: readonly Record<string, unknown>[] }>;

/** Options for {@link PostgresLeaseStore}. */
export interface PostgresLeaseStoreOptions {
  /** Runs one parameterised statement, e.g. `(text, values) => pool.query(text, values)`. */
  readonly query: SqlQuery;
  /** The table, optionally schema-qualified (`[a-z_][a-z0-9_]*`). @default 'ballast_leases' */
  readonly table?: string;
  /**
   * Whose clock leases expire on: `'database'` (`clock_timestamp()` on the server, so holders agree) or
   * `'client'` (the injected clock, for deterministic tests).
   * @default 'database'
   */
  readonly time?: 'database' | 'client';
  /** Used when `time` is `'client'`. @default systemClock */
  readonly clock?: Clock;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;
const SERVER_NOW = `(floor(extract(epoch from clock_timestamp()) * 1000))::bigint`;

/**
 * Leases in a PostgreSQL table, one statement per operation. A row per key keeps its token after release, so a new
 * grant is always `token + 1`; since the row lives in the database next to the data, the token follows the data
 * through a replica promotion (a promoted standby hands out tokens above every token the old primary replicated),
 * and a resource in the same database can check it in the same transaction as its write:
 * `UPDATE ... WHERE EXISTS (SELECT 1 FROM ballast_leases WHERE key = $1 AND token = $2 AND expires_at > now)`.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { LeaseLock, PostgresLeaseStore } from '@ballast/resilience';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const store = new PostgresLeaseStore({ query: (text, values) => pool.query(text, values) });
 * await store.ensureTable();
 * const lock = new LeaseLock({ store, key: 'outbox-relay', leaseMs: 10_000 });
 * ```
 */
export class PostgresLeaseStore implements LeaseStore {
  readonly #query: SqlQuery;
  readonly #table: string;
  readonly #time: 'database' | 'client';
  readonly #clock: Clock;

  constructor(options: PostgresLeaseStoreOptions) {
    if (typeof options?.query !== 'function') {
      throw invalidOption('query', 'a function (text, values) => Promise<{ rows }>', options?.query);
    }
    const table = options.table ?? 'ballast_leases';
    if (typeof table !== 'string' || !IDENT.test(table)) {
      throw invalidOption('table', 'a lower-case SQL identifier, optionally schema-qualified', table);
    }
    this.#query = options.query;
    this.#table = table;
    this.#time = checkOneOf('time', options.time, ['database', 'client'] as const, 'database');
    this.#clock = options.clock ?? systemClock;
  }

  /** The table name used in statements. */
  get table(): string {
    return this.#table;
  }

  /** Creates the table when it does not exist (idempotent; run it at startup or in a migration). */
  async ensureTable(): Promise<void> {
    await this.#query(
      `CREATE TABLE IF NOT EXISTS ${this.#table} (
         key text PRIMARY KEY,
         owner text,
         token bigint NOT NULL,
         expires_at bigint NOT NULL
       )`,
    );
  }

  #now(): number | null {
    return this.#time === 'client' ? Math.floor(this.#clock.now()) : null;
  }

  async tryAcquire(key: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    checkLeaseArgs(key, owner, ttlMs);
    const t = this.#table;
    const { rows } = await this.#query(
      `WITH n AS (SELECT COALESCE($3::bigint, ${SERVER_NOW}) AS now)
       INSERT INTO ${t} AS l (key, owner, token, expires_at)
       SELECT $1, $2, 1, n.now + $4::bigint FROM n
       ON CONFLICT (key) DO UPDATE SET
         token = CASE WHEN l.owner = EXCLUDED.owner AND l.expires_at > (SELECT now FROM n) THEN l.token
                      ELSE l.token + 1 END,
         owner = EXCLUDED.owner,
         expires_at = EXCLUDED.expires_at
       WHERE l.owner IS NULL OR l.owner = EXCLUDED.owner OR l.expires_at <= (SELECT now FROM n)
       RETURNING token, expires_at`,
      [key, owner, this.#now(), ttlMs],
    );
    const row = rows[0];
    return row
      ? { key, owner, token: Number(row['token']), expiresAt: Number(row['expires_at']) }
      : undefined;
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    checkLeaseArgs(lease?.key, lease?.owner, ttlMs);
    const { rows } = await this.#query(
      `WITH n AS (SELECT COALESCE($4::bigint, ${SERVER_NOW}) AS now)
       UPDATE ${this.#table} SET expires_at = (SELECT now FROM n) + $5::bigint
       WHERE key = $1 AND owner = $2 AND token = $3 AND expires_at > (SELECT now FROM n)
       RETURNING expires_at`,
      [lease.key, lease.owner, lease.token, this.#now(), ttlMs],
    );
    const row = rows[0];
    return row ? { ...lease, expiresAt: Number(row['expires_at']) } : undefined;
  }

  async release(lease: Lease): Promise<boolean> {
    const { rows } = await this.#query(
      `WITH n AS (SELECT COALESCE($4::bigint, ${SERVER_NOW}) AS now),
       old AS (SELECT expires_at FROM ${this.#table} WHERE key = $1 AND owner = $2 AND token = $3 FOR UPDATE)
       UPDATE ${this.#table} l SET owner = NULL, expires_at = 0 FROM old
       WHERE l.key = $1 AND l.owner = $2 AND l.token = $3
       RETURNING old.expires_at > (SELECT now FROM n) AS live`,
      [lease.key, lease.owner, lease.token, this.#now()],
    );
    return rows[0]?.['live'] === true;
  }

  async current(key: string): Promise<Lease | undefined> {
    const { rows } = await this.#query(
      `SELECT owner, token, expires_at FROM ${this.#table}
       WHERE key = $1 AND owner IS NOT NULL AND expires_at > COALESCE($2::bigint, ${SERVER_NOW})`,
      [key, this.#now()],
    );
    const row = rows[0];
    return row
      ? {
          key,
          owner: String(row['owner']),
          token: Number(row['token']),
          expiresAt: Number(row['expires_at']),
        }
      : undefined;
  }
}
