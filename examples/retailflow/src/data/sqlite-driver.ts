import Database from 'better-sqlite3';
import type { SqlDriver, SqlRow, SqlSession } from './sql-driver.js';

function bindable(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/**
 * better-sqlite3 behind {@link SqlDriver}. The driver is synchronous and has one connection, so every operation
 * (transaction or read) runs under one async mutex: a transaction's awaits can never interleave with another
 * caller's statements, and a reader never sees another caller's uncommitted writes.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  #tail: Promise<unknown> = Promise.resolve();
  readonly #session: SqlSession;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    if (path !== ':memory:' && path !== '') this.db.pragma('journal_mode = WAL');
    const db = this.db;
    const cache = new Map<string, Database.Statement>();
    const prepare = (sql: string): Database.Statement => {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = db.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    };
    this.#session = {
      all: (sql, params = []) => Promise.resolve(prepare(sql).all(...bindable(params)) as SqlRow[]),
      run: (sql, params = []) => Promise.resolve(prepare(sql).run(...bindable(params)).changes),
      exec: (sql) => {
        db.exec(sql);
        return Promise.resolve();
      },
    };
  }

  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#locked(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#session);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#locked(() => fn(this.#session));
  }

  close(): Promise<void> {
    return this.#locked(() => {
      if (this.db.open) this.db.close();
      return Promise.resolve();
    });
  }
}
