import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '@ballast/core';
import type { SqlDriver, SqlSession } from './sql-driver.js';

/** Options shared by both adapters. */
export interface RepositoryOptions {
  /** Source of every timestamp the store writes. @default systemClock */
  readonly clock?: Clock;
  /** Makes order and event ids. @default crypto.randomUUID */
  readonly newId?: () => string;
}

/** Thrown inside a transaction to roll it back and hand `result` to the caller (see {@link SqlContext.tx}). */
export class Rollback<T> extends Error {
  constructor(readonly result: T) {
    super('rollback');
  }
}

/**
 * What every store of the SQL repository shares: the driver, the clock, the id maker and the dialect's locking
 * clauses (empty on SQLite, whose transactions are serialised).
 */
export class SqlContext {
  readonly driver: SqlDriver;
  readonly kind: 'sqlite' | 'postgres';
  readonly clock: Clock;
  readonly newId: () => string;
  readonly forUpdate: string;
  readonly skipLocked: string;
  readonly forShare: string;

  constructor(driver: SqlDriver, options: RepositoryOptions = {}) {
    this.driver = driver;
    this.kind = driver.dialect;
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? randomUUID;
    this.forUpdate = driver.dialect === 'postgres' ? ' FOR UPDATE' : '';
    this.skipLocked = driver.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    this.forShare = driver.dialect === 'postgres' ? ' FOR SHARE' : '';
  }

  /** The store's time, in whole epoch milliseconds. */
  now(): number {
    return Math.floor(this.clock.now());
  }

  /** Runs `fn` in a transaction; a {@link Rollback} thrown inside rolls it back and becomes the result. */
  async tx<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    try {
      return await this.driver.transaction(fn);
    } catch (error) {
      if (error instanceof Rollback) return error.result as T;
      throw error;
    }
  }
}
