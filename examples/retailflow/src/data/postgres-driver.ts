import type pg from 'pg';
import type { SqlDriver, SqlRow, SqlSession } from './sql-driver.js';

/** Rewrites `?` placeholders to `$1, $2, …` (RetailFlow's SQL never has `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function sessionOf(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    all: async (sql, params = []) =>
      (await client.query(numberPlaceholders(sql), params as unknown[])).rows as SqlRow[],
    run: async (sql, params = []) =>
      (await client.query(numberPlaceholders(sql), params as unknown[])).rowCount ?? 0,
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

/** `pg` behind {@link SqlDriver}: transactions on a dedicated pool client, reads on the pool. */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly #poolSession: SqlSession;

  constructor(pool: pg.Pool) {
    this.pool = pool;
    this.#poolSession = sessionOf(pool);
  }

  async transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // The pool listens for errors only on idle clients. A checked-out client whose connection dies between two
    // statements (a PostgreSQL restart terminates every backend) emits 'error' with nobody listening, which
    // would crash the process; here it marks the client broken, and the next statement fails the transaction.
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(sessionOf(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      }
    } finally {
      // A client whose connection failed or whose rollback failed is in an unknown state: destroy it instead of
      // returning it to the pool (still listening: a failed connection may report more while it is torn down).
      if (broken === undefined) client.off('error', onError);
      client.release(broken);
    }
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return fn(this.#poolSession);
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}
