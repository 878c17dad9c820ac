import { createHash, randomBytes } from 'node:crypto';
import { invalidOption, reportError, systemClock, type Clock } from '@ballast/core';
import type { SqlDriver, SqlRow } from '../data/index.js';

/** One API key as the store and the admin endpoints show it: never the key itself, never its hash. */
export interface ApiKeyInfo {
  /** Public id (`key_...`), also the first part of the key; audit entries name it. */
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly createdAt: number;
  /** Who issued it (an audit actor). */
  readonly createdBy: string;
  /** After this epoch-ms time the key is refused (set when it is rotated: the overlap's end). */
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  /** Last successful use, to the store's resolution (written at most once a minute per key). */
  readonly lastUsedAt: number | null;
  /** The key this one replaced, when it was issued by a rotation. */
  readonly replaces: string | null;
}

/** A key just issued: `secret` is shown once and never stored. */
export interface IssuedApiKey extends ApiKeyInfo {
  readonly secret: string;
}

/** What a valid key authenticates as. */
export interface ApiKeyMatch {
  readonly id: string;
  readonly tenantId: string;
}

/** Options of {@link SqlApiKeyStore}. */
export interface ApiKeyStoreOptions {
  /** @default systemClock */
  readonly clock?: Clock;
  /** Least time between two writes of one key's last use, in ms. @default 60000 */
  readonly lastUseResolutionMs?: number;
}

const KEY_FORMAT = /^rfk_([A-Za-z0-9]{16})_([\w-]{43})$/;
const NAME = /^[\x20-\x7e]{1,64}$/;

/** SHA-256 hex of a key (the key has 256 random bits: a fast hash is the right one, no salt is needed). */
function hashKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function toInfo(row: SqlRow): ApiKeyInfo {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(row.id),
    tenantId: String(row.tenant_id),
    name: String(row.name),
    createdAt: Number(row.created_at),
    createdBy: String(row.created_by),
    expiresAt: n(row.expires_at),
    revokedAt: n(row.revoked_at),
    lastUsedAt: n(row.last_used_at),
    replaces: typeof row.replaces === 'string' ? row.replaces : null,
  };
}

/**
 * Per-tenant API keys for simple clients, in the `api_keys` table (SQLite or PostgreSQL): issued (the secret is
 * returned once; the table keeps its SHA-256), rotated with an overlap (the new key works at once, the old one
 * until the overlap ends), revoked (refused from then on), listed with their last use. A key looks like
 * `rfk_<16 id chars>_<43 secret chars>`, so a leaked key is recognisable by secret scanners and names its id.
 *
 * @example
 * ```ts
 * const keys = new SqlApiKeyStore(driver);
 * const issued = await keys.issue('acme', 'checkout-service', 'jwt:alice@retailflow-web');
 * await keys.verify(issued.secret); // { id, tenantId: 'acme' }
 * ```
 */
export class SqlApiKeyStore {
  readonly #driver: SqlDriver;
  readonly #clock: Clock;
  readonly #resolution: number;
  readonly #lastWrite = new Map<string, number>();
  readonly #writing = new Set<Promise<void>>();

  constructor(driver: SqlDriver, options: ApiKeyStoreOptions = {}) {
    this.#driver = driver;
    this.#clock = options.clock ?? systemClock;
    this.#resolution = options.lastUseResolutionMs ?? 60_000;
  }

  /** Issues a new key for `tenantId`. */
  async issue(
    tenantId: string,
    name: string,
    actor: string,
    replaces: string | null = null,
  ): Promise<IssuedApiKey> {
    if (!NAME.test(name)) throw invalidOption('name', '1-64 printable ASCII characters', name);
    const id = randomBytes(8).toString('hex');
    const secret = `rfk_${id}_${randomBytes(32).toString('base64url')}`;
    const now = this.#clock.now();
    await this.#driver.transaction((s) =>
      s.run(
        `INSERT INTO api_keys (id, tenant_id, name, key_hash, created_at, created_by, replaces)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [id, tenantId, name, hashKey(secret), now, actor, replaces],
      ),
    );
    return {
      id,
      tenantId,
      name,
      createdAt: now,
      createdBy: actor,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      replaces,
      secret,
    };
  }

  /**
   * Issues a successor of `keyId` and lets the old key work for `overlapMs` more (0 ends it now), so clients can
   * switch without a failed request. Returns `undefined` when the tenant has no such live key.
   */
  async rotate(
    tenantId: string,
    keyId: string,
    overlapMs: number,
    actor: string,
  ): Promise<IssuedApiKey | undefined> {
    if (!Number.isSafeInteger(overlapMs) || overlapMs < 0 || overlapMs > 30 * 86_400_000) {
      throw invalidOption('overlapMs', 'an integer number of ms from 0 to 30 days', overlapMs);
    }
    const old = await this.get(tenantId, keyId);
    if (!old || old.revokedAt !== null || (old.expiresAt !== null && old.expiresAt <= this.#clock.now())) {
      return undefined;
    }
    const issued = await this.issue(tenantId, old.name, actor, keyId);
    const end = this.#clock.now() + overlapMs;
    await this.#driver.transaction((s) =>
      s.run(
        'UPDATE api_keys SET expires_at = ? WHERE tenant_id = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)',
        [end, tenantId, keyId, end],
      ),
    );
    return issued;
  }

  /** Revokes a key; true when it was live. */
  async revoke(tenantId: string, keyId: string): Promise<boolean> {
    const changed = await this.#driver.transaction((s) =>
      s.run('UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL', [
        this.#clock.now(),
        tenantId,
        keyId,
      ]),
    );
    return changed > 0;
  }

  async get(tenantId: string, keyId: string): Promise<ApiKeyInfo | undefined> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT * FROM api_keys WHERE tenant_id = ? AND id = ?', [tenantId, keyId]),
    );
    return rows[0] && toInfo(rows[0]);
  }

  /** The tenant's keys, newest first. */
  async list(tenantId: string): Promise<ApiKeyInfo[]> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id', [tenantId]),
    );
    return rows.map(toInfo);
  }

  /**
   * The key's id and tenant when `secret` is a live key (not revoked, not past its overlap), `undefined`
   * otherwise. Records the use (at most once per resolution per key; a failed write is reported, never thrown).
   */
  async verify(secret: string): Promise<ApiKeyMatch | undefined> {
    if (!KEY_FORMAT.test(secret)) return undefined;
    const rows = await this.#driver.read((s) =>
      s.all('SELECT id, tenant_id, expires_at, revoked_at FROM api_keys WHERE key_hash = ?', [
        hashKey(secret),
      ]),
    );
    const row = rows[0];
    if (!row) return undefined;
    const now = this.#clock.now();
    if (row.revoked_at !== null && row.revoked_at !== undefined) return undefined;
    if (row.expires_at !== null && row.expires_at !== undefined && Number(row.expires_at) <= now)
      return undefined;
    const id = String(row.id);
    this.#touch(id, now);
    return { id, tenantId: String(row.tenant_id) };
  }

  #touch(id: string, now: number): void {
    const last = this.#lastWrite.get(id);
    if (last !== undefined && now - last < this.#resolution) return;
    this.#lastWrite.set(id, now);
    if (this.#lastWrite.size > 100_000) this.#lastWrite.clear();
    const write = this.#driver
      .transaction((s) => s.run('UPDATE api_keys SET last_used_at = ? WHERE id = ?', [now, id]))
      .then(
        () => undefined,
        (error: unknown) => reportError(error, 'retailflow: recording an API key use failed'),
      )
      .finally(() => this.#writing.delete(write));
    this.#writing.add(write);
  }

  /**
   * Resolves once every last-use write started so far has finished (written or reported). `verify` does not wait
   * for them, so a request never pays for the bookkeeping; shutdown awaits this before the database closes.
   */
  async settled(): Promise<void> {
    while (this.#writing.size > 0) await Promise.all([...this.#writing]);
  }
}

/** True when a bearer token has the shape of a RetailFlow-issued API key (`rfk_...`). */
export function looksLikeIssuedApiKey(token: string): boolean {
  return KEY_FORMAT.test(token);
}
