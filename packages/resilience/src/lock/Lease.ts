/**
 * A lease on a named lock as the store granted it. `token` is the fencing token: it grows by at least one every
 * time the lock changes hands (and never goes backwards for a key), so a resource that remembers the highest token
 * it has seen can refuse a holder whose lease ran out while it was paused.
 */
export interface Lease {
  /** The lock's name. */
  readonly key: string;
  /** Who holds it (unique per holder; a UUID by default). */
  readonly owner: string;
  /** The fencing token: pass it with every write to the protected resource. */
  readonly token: number;
  /** When the lease ends, in epoch ms of the store's time (server time unless the store was told otherwise). */
  readonly expiresAt: number;
}

/**
 * Where leases live. Every operation is atomic in the store (a Lua script on Redis, one statement on PostgreSQL), so
 * two holders never get the same key at once according to the store's own clock.
 *
 * - `tryAcquire` grants the lock when it is free, expired, or already held by `owner` (then it is extended and keeps
 *   its token). A new grant gets the key's previous token + 1.
 * - `renew` extends a lease only while it is still the current one (same owner and token, not expired).
 * - `release` frees a lease that is still current; the token counter is kept, so the next grant goes higher.
 */
export interface LeaseStore {
  tryAcquire(key: string, owner: string, ttlMs: number): Promise<Lease | undefined>;
  renew(lease: Lease, ttlMs: number): Promise<Lease | undefined>;
  release(lease: Lease): Promise<boolean>;
  /** The current lease on `key`, or `undefined` when the lock is free or expired. */
  current(key: string): Promise<Lease | undefined>;
}
