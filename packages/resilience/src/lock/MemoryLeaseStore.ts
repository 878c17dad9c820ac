import { systemClock, type Clock } from '@ballast/core';
import type { Lease, LeaseStore } from './Lease.js';
import { checkLeaseArgs } from './checks.js';

/** Options for {@link MemoryLeaseStore}. */
export interface MemoryLeaseStoreOptions {
  /** The store's time (leases expire on it). @default systemClock */
  readonly clock?: Clock;
}

interface Slot {
  owner: string | undefined;
  token: number;
  expiresAt: number;
}

/**
 * Leases in one process's memory: the test double for {@link LeaseStore} (and enough for holders that share a
 * process). Same rules as the Redis and PostgreSQL stores, with time from the injected clock.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@ballast/core';
 * import { LeaseLock, MemoryLeaseStore } from '@ballast/resilience';
 * const clock = new ManualClock();
 * const store = new MemoryLeaseStore({ clock });
 * const lock = new LeaseLock({ store, key: 'relay', leaseMs: 10_000, clock });
 * const lease = await lock.acquire(); // { token: 1, ... }
 * ```
 */
export class MemoryLeaseStore implements LeaseStore {
  readonly #clock: Clock;
  readonly #slots = new Map<string, Slot>();

  constructor(options: MemoryLeaseStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  tryAcquire(key: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    checkLeaseArgs(key, owner, ttlMs);
    const now = this.#clock.now();
    const slot = this.#slots.get(key) ?? { owner: undefined, token: 0, expiresAt: 0 };
    const live = slot.owner !== undefined && slot.expiresAt > now;
    if (live && slot.owner !== owner) return Promise.resolve(undefined);
    if (!live) slot.token += 1;
    slot.owner = owner;
    slot.expiresAt = now + ttlMs;
    this.#slots.set(key, slot);
    return Promise.resolve({ key, owner, token: slot.token, expiresAt: slot.expiresAt });
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    checkLeaseArgs(lease?.key, lease?.owner, ttlMs);
    const now = this.#clock.now();
    const slot = this.#slots.get(lease.key);
    if (!slot || slot.owner !== lease.owner || slot.token !== lease.token || slot.expiresAt <= now) {
      return Promise.resolve(undefined);
    }
    slot.expiresAt = now + ttlMs;
    return Promise.resolve({ ...lease, expiresAt: slot.expiresAt });
  }

  release(lease: Lease): Promise<boolean> {
    const slot = this.#slots.get(lease.key);
    if (!slot || slot.owner !== lease.owner || slot.token !== lease.token) return Promise.resolve(false);
    const wasLive = slot.expiresAt > this.#clock.now();
    slot.owner = undefined;
    slot.expiresAt = 0;
    return Promise.resolve(wasLive);
  }

  current(key: string): Promise<Lease | undefined> {
    const slot = this.#slots.get(key);
    if (!slot || slot.owner === undefined || slot.expiresAt <= this.#clock.now())
      return Promise.resolve(undefined);
    return Promise.resolve({ key, owner: slot.owner, token: slot.token, expiresAt: slot.expiresAt });
  }
}
