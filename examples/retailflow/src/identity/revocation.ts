import type { Redis } from 'ioredis';
import { invalidOption, type Clock } from '@ballast/core';

/** What can be revoked before it expires: one token (`jti`) or a whole token family (the grant, `gid`). */
export interface Revocation {
  readonly kind: 'jti' | 'gid';
  readonly id: string;
  /**
   * Epoch milliseconds after which the entry may be forgotten: the expiry of the last token it can match (for a
   * family, now plus the longest access-token lifetime).
   */
  readonly until: number;
}

/**
 * The shared denylist of revoked access tokens. Access tokens are short-lived and stateless; a revocation (a
 * person signs out, an operator pulls a stolen token, the authorization server detects a replayed refresh token)
 * lands here, and the resource server refuses a listed `jti` or `gid` until the entry expires.
 */
export interface RevocationList {
  revoke(entry: Revocation): Promise<void>;
  /** True when any of the ids is revoked. */
  isRevoked(ids: { readonly jti?: string | undefined; readonly gid?: string | undefined }): Promise<boolean>;
}

function check(entry: Revocation): void {
  if (entry.kind !== 'jti' && entry.kind !== 'gid') throw invalidOption('kind', "'jti' or 'gid'", entry.kind);
  if (typeof entry.id !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(entry.id)) {
    throw invalidOption('id', '1-256 printable ASCII characters', entry.id);
  }
  if (!Number.isFinite(entry.until)) throw invalidOption('until', 'epoch milliseconds', entry.until);
}

/**
 * A denylist in this process (embedded mode, tests): entries are dropped once past `until` by the injected clock.
 *
 * @example
 * ```ts
 * const list = new InMemoryRevocationList(systemClock);
 * await list.revoke({ kind: 'jti', id: 'abc', until: Date.now() + 300_000 });
 * await list.isRevoked({ jti: 'abc' }); // true
 * ```
 */
export class InMemoryRevocationList implements RevocationList {
  readonly #entries = new Map<string, number>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so that bad input rejects, never throws
  async revoke(entry: Revocation): Promise<void> {
    check(entry);
    const key = `${entry.kind}:${entry.id}`;
    this.#entries.set(key, Math.max(entry.until, this.#entries.get(key) ?? 0));
    this.#sweep();
  }

  isRevoked(ids: { readonly jti?: string | undefined; readonly gid?: string | undefined }): Promise<boolean> {
    const now = this.#clock.now();
    for (const key of [ids.jti && `jti:${ids.jti}`, ids.gid && `gid:${ids.gid}`]) {
      if (!key) continue;
      const until = this.#entries.get(key);
      if (until !== undefined && until > now) return Promise.resolve(true);
    }
    return Promise.resolve(false);
  }

  /** Entries held (expired ones are dropped on the next revoke). */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [key, until] of this.#entries) if (until <= now) this.#entries.delete(key);
  }
}

/**
 * The denylist shared by every RetailFlow instance through Redis: one key per entry (`<prefix>:revoked:jti:<id>`)
 * with a TTL to its `until`, so Redis forgets it when the token could no longer be used anyway. A check is one
 * `MGET`. When Redis cannot answer, `isRevoked` throws: the caller decides (RetailFlow refuses high-risk requests
 * with a 503 rather than letting a possibly revoked token through).
 *
 * @example
 * ```ts
 * const list = new RedisRevocationList(new Redis(url), 'retailflow', systemClock);
 * ```
 */
export class RedisRevocationList implements RevocationList {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #clock: Clock;

  constructor(redis: Redis, prefix: string, clock: Clock) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#clock = clock;
  }

  async revoke(entry: Revocation): Promise<void> {
    check(entry);
    const ttl = Math.ceil(entry.until - this.#clock.now());
    if (ttl <= 0) return;
    await this.#redis.set(`${this.#prefix}:revoked:${entry.kind}:${entry.id}`, '1', 'PX', ttl);
  }

  async isRevoked(ids: {
    readonly jti?: string | undefined;
    readonly gid?: string | undefined;
  }): Promise<boolean> {
    const keys: string[] = [];
    if (ids.jti) keys.push(`${this.#prefix}:revoked:jti:${ids.jti}`);
    if (ids.gid) keys.push(`${this.#prefix}:revoked:gid:${ids.gid}`);
    if (keys.length === 0) return false;
    const values = await this.#redis.mget(...keys);
    return values.some((v) => v !== null);
  }
}
