import { describe, expect, it } from 'vitest';
import { SqlRepository, type SqlDriver, type SqlSession } from '../../src/data/index.js';

/**
 * Regression: `/readyz` checked the database with `SELECT 1`, which a hot standby answers. An instance pointed at a
 * standby (the surviving region before its promotion, or an old primary that came back rewound as a standby) was
 * ready, so the load balancer sent it checkouts that all failed on the first write. PostgreSQL's health now
 * requires a primary.
 */
function driver(standby: boolean): SqlDriver {
  const session: SqlSession = {
    all: (sql) => Promise.resolve(sql.includes('pg_is_in_recovery') ? [{ standby }] : [{ ok: 1 }]),
    run: () => Promise.resolve(0),
    exec: () => Promise.resolve(),
  };
  return {
    dialect: 'postgres',
    transaction: (fn) => fn(session),
    read: (fn) => fn(session),
    close: () => Promise.resolve(),
  };
}

describe('a repository on a PostgreSQL standby is not healthy', () => {
  it('rejects on a standby, resolves on a primary', async () => {
    await expect(new SqlRepository(driver(true)).health()).rejects.toThrow(
      'the database is a read-only standby (in recovery): not promoted, or fenced',
    );
    await expect(new SqlRepository(driver(false)).health()).resolves.toBeUndefined();
  });
});
