import { randomUUID } from 'node:crypto';
import { checkNumber, systemClock, type Clock } from '@ballast/core';
import type { Lease, LeaseStore } from './Lease.js';
import { checkLeaseArgs } from './checks.js';

/** Options for {@link LeaseLock}. */
export interface LeaseLockOptions {
  /** Where leases live: {@link MemoryLeaseStore}, {@link RedisLeaseStore} or {@link PostgresLeaseStore}. */
  readonly store: LeaseStore;
  /** The lock's name. */
  readonly key: string;
  /** This holder's identity; unique per process. @default a random UUID */
  readonly owner?: string;
  /** How long a lease lasts without renewal, in ms. Renew well before (a third of it is usual). @default 10000 */
  readonly leaseMs?: number;
  /** The holder's clock, for its own conservative view of the lease ({@link LeaseLock.held}). @default systemClock */
  readonly clock?: Clock;
}

/**
 * A lease lock with fencing tokens: one holder at a time per key, for at most `leaseMs` unless renewed. A lease is
 * not a guarantee that nobody else acts (a holder can pause past its lease in a GC, a swap, a partition); the
 * guarantee comes from the token: pass `lease.token` with every write, and let the resource refuse tokens lower
 * than the highest it has seen ({@link FencingGuard}, or a check against the store in the same transaction).
 *
 * @example
 * ```ts
 * import { FencingGuard, LeaseLock, MemoryLeaseStore } from '@ballast/resilience';
 * const lock = new LeaseLock({ store: new MemoryLeaseStore(), key: 'relay', leaseMs: 10_000 });
 * const guard = new FencingGuard();
 * const lease = await lock.acquire();
 * if (lease) guard.assertFresh(lease.token); // the resource checks every write
 * ```
 */
export class LeaseLock {
  readonly #store: LeaseStore;
  readonly #key: string;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #clock: Clock;
  #lease: Lease | undefined;
  #localExpiry = 0;

  constructor(options: LeaseLockOptions) {
    if (typeof options?.store?.tryAcquire !== 'function') {
      throw new TypeError(`Expected \`store\` to be a LeaseStore, got ${typeof options?.store}`);
    }
    this.#store = options.store;
    this.#owner = options.owner ?? randomUUID();
    this.#leaseMs = checkNumber('leaseMs', options.leaseMs, 10_000, { integer: true, min: 1 });
    checkLeaseArgs(options.key, this.#owner, this.#leaseMs);
    this.#key = options.key;
    this.#clock = options.clock ?? systemClock;
  }

  /** The lock's name. */
  get key(): string {
    return this.#key;
  }

  /** How long each lease lasts without renewal, in ms. */
  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** This holder's identity. */
  get owner(): string {
    return this.#owner;
  }

  /**
   * The lease this holder believes it has, or `undefined` once its own clock says the lease may have ended (it
   * counts from before the request was sent, so it errs on the side of "lost"). A pause can still make this stale:
   * the token, checked by the resource, is what makes writes safe.
   */
  get held(): Lease | undefined {
    if (this.#lease && this.#clock.now() < this.#localExpiry) return this.#lease;
    return undefined;
  }

  /** Takes the lock if it is free (or already ours); resolves with the lease and its token, or `undefined`. */
  async acquire(): Promise<Lease | undefined> {
    const sent = this.#clock.now();
    const lease = await this.#store.tryAcquire(this.#key, this.#owner, this.#leaseMs);
    this.#set(lease, sent);
    return lease;
  }

  /**
   * Extends the lease; resolves with it, or `undefined` when it was lost (expired, or someone else holds the lock
   * now), after which this holder must stop writing.
   */
  async renew(): Promise<Lease | undefined> {
    if (!this.#lease) return undefined;
    const sent = this.#clock.now();
    const lease = await this.#store.renew(this.#lease, this.#leaseMs);
    this.#set(lease, sent);
    return lease;
  }

  /** Gives the lock up; true when our lease was still current. */
  async release(): Promise<boolean> {
    const lease = this.#lease;
    this.#lease = undefined;
    if (!lease) return false;
    return this.#store.release(lease);
  }

  #set(lease: Lease | undefined, sent: number): void {
    this.#lease = lease;
    this.#localExpiry = lease ? sent + this.#leaseMs : 0;
  }
}
