import { checkNumber } from '@ballast/core';
import { StaleTokenError, type Lease, type LeaseStore } from '@ballast/resilience';
import { pageLimit } from './cursor.js';
import type { OutboxRecord, OutboxStats, OutboxStore, RelayFence } from './repository.js';
import type { SqlContext } from './sql-context.js';
import type { SqlSession } from './sql-driver.js';
import { marks, num, numOrNull, toOutbox } from './sql-rows.js';

/**
 * The transactional outbox (`outbox`) as the relay sees it, and the relays' leadership leases (`relay_leases`).
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlOutboxStore implements OutboxStore {
  private readonly ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.ctx = ctx;
  }

  async claimOutbox(options: {
    limit: number;
    leaseMs: number;
    fence?: RelayFence;
  }): Promise<OutboxRecord[]> {
    const limit = checkNumber('limit', options.limit, 0, { integer: true, min: 1 });
    const leaseMs = checkNumber('leaseMs', options.leaseMs, 0, { min: 1 });
    const now = this.ctx.now();
    const rows = await this.ctx.tx(async (s) => {
      if (options.fence) await this.checkFence(s, options.fence, now);
      return s.all(
        `UPDATE outbox SET locked_until = ?, claim_token = ? WHERE seq IN (
           SELECT seq FROM outbox
           WHERE published_at IS NULL AND dead_lettered_at IS NULL AND next_attempt_at <= ? AND locked_until <= ?
           ORDER BY seq LIMIT ?${this.ctx.skipLocked})
         RETURNING *`,
        [now + Math.ceil(leaseMs), options.fence?.token ?? null, now, now, limit],
      );
    });
    return rows.sort((a, b) => num(a.seq) - num(b.seq)).map(toOutbox);
  }

  async markPublished(ids: readonly string[], fence?: RelayFence): Promise<void> {
    if (ids.length === 0) return;
    await this.ctx.tx(async (s) => {
      if (fence) await this.checkFence(s, fence, undefined);
      await s.run(`UPDATE outbox SET published_at = ?, locked_until = 0 WHERE id IN (${marks(ids.length)})`, [
        this.ctx.now(),
        ...ids,
      ]);
    });
  }

  /**
   * Refuses with StaleTokenError unless the lease row still carries the fence's token (and, when `now` is given,
   * has not expired). On PostgreSQL the row is share-locked until the transaction ends, so a new holder's acquire
   * (which updates the row) waits for this write, and every write after that acquire sees the new token.
   */
  private async checkFence(s: SqlSession, fence: RelayFence, now: number | undefined): Promise<void> {
    const [row] = await s.all(
      `SELECT token, expires_at FROM relay_leases WHERE key = ?${this.ctx.forShare}`,
      [fence.key],
    );
    const token = row ? num(row.token) : 0;
    if (!row || token !== fence.token || (now !== undefined && num(row.expires_at) <= now)) {
      throw new StaleTokenError(`relay_leases/${fence.key}`, fence.token, Math.max(token, fence.token));
    }
  }

  /** The relays' leadership leases in `relay_leases`, on the repository's clock. */
  readonly relayLeases: LeaseStore = {
    tryAcquire: (key, owner, ttlMs) => {
      const now = this.ctx.now();
      return this.ctx.tx(async (s): Promise<Lease | undefined> => {
        const [row] = await s.all(
          `SELECT owner, token, expires_at FROM relay_leases WHERE key = ?${this.ctx.forUpdate}`,
          [key],
        );
        const expiresAt = now + Math.ceil(ttlMs);
        if (!row) {
          const inserted = await s.run(
            'INSERT INTO relay_leases (key, owner, token, expires_at) VALUES (?, ?, 1, ?) ON CONFLICT (key) DO NOTHING',
            [key, owner, expiresAt],
          );
          return inserted === 1 ? { key, owner, token: 1, expiresAt } : undefined;
        }
        const live = row.owner !== null && num(row.expires_at) > now;
        if (live && row.owner !== owner) return undefined;
        const token = live ? num(row.token) : num(row.token) + 1;
        await s.run('UPDATE relay_leases SET owner = ?, token = ?, expires_at = ? WHERE key = ?', [
          owner,
          token,
          expiresAt,
          key,
        ]);
        return { key, owner, token, expiresAt };
      });
    },
    renew: async (lease, ttlMs) => {
      const now = this.ctx.now();
      const expiresAt = now + Math.ceil(ttlMs);
      const changed = await this.ctx.tx((s) =>
        s.run(
          'UPDATE relay_leases SET expires_at = ? WHERE key = ? AND owner = ? AND token = ? AND expires_at > ?',
          [expiresAt, lease.key, lease.owner, lease.token, now],
        ),
      );
      return changed === 1 ? { ...lease, expiresAt } : undefined;
    },
    release: async (lease) => {
      const now = this.ctx.now();
      const changed = await this.ctx.tx((s) =>
        s.run(
          'UPDATE relay_leases SET owner = NULL, expires_at = 0 WHERE key = ? AND owner = ? AND token = ? AND expires_at > ?',
          [lease.key, lease.owner, lease.token, now],
        ),
      );
      return changed === 1;
    },
    current: async (key) => {
      const [row] = await this.ctx.driver.read((s) =>
        s.all('SELECT owner, token, expires_at FROM relay_leases WHERE key = ?', [key]),
      );
      if (!row || row.owner === null || num(row.expires_at) <= this.ctx.now()) return undefined;
      return { key, owner: row.owner as string, token: num(row.token), expiresAt: num(row.expires_at) };
    },
  };

  async markFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    await this.ctx.tx((s) =>
      s.run(
        'UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, locked_until = 0 WHERE id = ?',
        [error.slice(0, 2000), Math.ceil(nextAttemptAt), id],
      ),
    );
  }

  async markDeadLettered(id: string, error: string): Promise<void> {
    await this.ctx.tx((s) =>
      s.run(
        'UPDATE outbox SET attempts = attempts + 1, last_error = ?, dead_lettered_at = ?, locked_until = 0 WHERE id = ?',
        [error.slice(0, 2000), this.ctx.now(), id],
      ),
    );
  }

  async releaseClaims(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.ctx.tx((s) =>
      s.run(`UPDATE outbox SET locked_until = 0 WHERE id IN (${marks(ids.length)})`, [...ids]),
    );
  }

  async outboxStats(): Promise<OutboxStats> {
    const now = this.ctx.now();
    const [pending, dead] = await this.ctx.driver.read(async (s) => [
      await s.all(
        'SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL',
      ),
      await s.all('SELECT COUNT(*) AS n FROM outbox WHERE dead_lettered_at IS NOT NULL'),
    ]);
    const oldest = numOrNull(pending[0]?.oldest);
    return {
      depth: num(pending[0]?.depth ?? 0),
      oldestCreatedAt: oldest,
      lagMs: oldest === null ? 0 : Math.max(0, now - oldest),
      deadLettered: num(dead[0]?.n ?? 0),
    };
  }

  async listDeadLettered(limit = 100): Promise<OutboxRecord[]> {
    const rows = await this.ctx.driver.read((s) =>
      s.all('SELECT * FROM outbox WHERE dead_lettered_at IS NOT NULL ORDER BY seq LIMIT ?', [
        pageLimit(limit),
      ]),
    );
    return rows.map(toOutbox);
  }

  async requeueDeadLettered(id: string): Promise<boolean> {
    const changed = await this.ctx.tx((s) =>
      s.run(
        `UPDATE outbox SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = ?, locked_until = 0
         WHERE id = ? AND dead_lettered_at IS NOT NULL`,
        [this.ctx.now(), id],
      ),
    );
    return changed > 0;
  }

  pruneOutbox(publishedBefore: number): Promise<number> {
    checkNumber('publishedBefore', publishedBefore, 0);
    return this.ctx.tx((s) =>
      s.run('DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?', [
        Math.floor(publishedBefore),
      ]),
    );
  }
}
