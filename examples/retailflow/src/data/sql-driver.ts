import type { SqlDialect } from './migrations.js';

/** A row as a driver returns it. */
export type SqlRow = Record<string, unknown>;

/**
 * Statements within one connection (and, inside {@link SqlDriver.transaction}, one transaction). SQL is written
 * with `?` placeholders; the PostgreSQL driver numbers them.
 */
export interface SqlSession {
  /** Runs a statement that returns rows (SELECT, or anything with RETURNING). */
  all(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** The connection layer under the shared repository: one per adapter. */
export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** Runs `fn` in a transaction: commits when it resolves, rolls back and rethrows when it throws. */
  transaction<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Runs `fn` outside an explicit transaction (single reads). */
  read<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
