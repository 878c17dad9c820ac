import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { SqlDriver, SqlRow, SqlSession } from './sql-driver.js';

/** Rewrites `?` placeholders to `$1, $2, …` (RetailFlow's SQL never has `?` inside literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * A statement's text in RetailFlow's SQL, as `pg` sends it: named (prepared once per connection, then only bound and
 * executed) or unnamed (parsed and planned by the server every time).
 */
function queryOf(sql: string, params: readonly unknown[], names: StatementNames | undefined): pg.QueryConfig {
  const text = numberPlaceholders(sql);
  const name = params.length === 0 ? undefined : names?.nameOf(text);
  return name === undefined
    ? { text, values: params as unknown[] }
    : { name, text, values: params as unknown[] };
}

/**
 * A result list of `*` changes its columns when a migration adds one, and the server then refuses a statement it
 * prepared before ("cached plan must not change result type"): such statements stay unnamed.
 */
const STAR_RESULT = /\b(?:SELECT|RETURNING)\s+(?:[a-z_][a-z0-9_]*\.)?\*/i;

/**
 * Names for the statements a connection prepares. A connection keeps every statement it prepared until it closes,
 * so at most `max` distinct texts are named (the first ones seen: a service's hot statements are among the first
 * it runs); texts beyond them, and texts with a `*` result, are sent unnamed as before.
 */
export class StatementNames {
  readonly #names = new Map<string, string | undefined>();
  readonly #max: number;
  #named = 0;

  /** @param max - distinct statement texts that get a name. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Distinct texts named so far. */
  get size(): number {
    return this.#named;
  }

  /** The name of `text`'s prepared statement, or `undefined` to send it unnamed. */
  nameOf(text: string): string | undefined {
    if (this.#names.has(text)) return this.#names.get(text);
    if (this.#named >= this.#max || STAR_RESULT.test(text)) {
      // Remembered unnamed only while the map is small, so an endless variety of texts costs no memory.
      if (this.#names.size < 2 * this.#max) this.#names.set(text, undefined);
      return undefined;
    }
    const name = `rf_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    this.#names.set(text, name);
    this.#named++;
    return name;
  }
}

function sessionOf(client: pg.Pool | pg.PoolClient, names: StatementNames | undefined): SqlSession {
  return {
    all: async (sql, params = []) => (await client.query(queryOf(sql, params, names))).rows as SqlRow[],
    run: async (sql, params = []) => (await client.query(queryOf(sql, params, names))).rowCount ?? 0,
    exec: async (sql) => {
      await client.query(sql);
    },
  };
}

/**
 * `pg` behind {@link SqlDriver}: transactions on a dedicated pool client, reads on the pool. Statements with
 * parameters are prepared once per connection (up to `preparedStatements` distinct texts, see
 * {@link StatementNames}); 0 sends every statement unnamed, as a pooler in transaction mode that does not track
 * prepared statements needs.
 */
export class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly #poolSession: SqlSession;
  readonly #names: StatementNames | undefined;

  /** @param options.preparedStatements - distinct statement texts prepared per connection. @default 200 */
  constructor(pool: pg.Pool, options: { readonly preparedStatements?: number } = {}) {
    this.pool = pool;
    const max = options.preparedStatements ?? 200;
    this.#names = max > 0 ? new StatementNames(max) : undefined;
    this.#poolSession = sessionOf(pool, this.#names);
  }

  /** Distinct statement texts prepared so far (each connection prepares them as it first runs them). */
  get preparedStatements(): number {
    return this.#names?.size ?? 0;
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
        const result = await fn(sessionOf(client, this.#names));
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
