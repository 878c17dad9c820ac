import { ManualClock } from '@ballast/core';
import { expect, it } from 'vitest';
import { isStaleTokenError } from '../src/lock/StaleTokenError.js';
import { FencingGuard } from '../src/lock/FencingGuard.js';
import type { LeaseStore } from '../src/lock/Lease.js';
import { LeaseLock } from '../src/lock/LeaseLock.js';

/** A store under test: built on a manual clock (client time), with a fresh key namespace per call. */
export type StoreFactory = (clock: ManualClock) => Promise<{ store: LeaseStore; key: string }>;

/** The behaviour every LeaseStore must have; run against memory, Redis and PostgreSQL. */
export function leaseStoreContract(make: StoreFactory): void {
  it('a holder paused past its lease is fenced: the next holder gets a higher token, stale writes are refused', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { store, key } = await make(clock);
    const a = new LeaseLock({ store, key, owner: 'a', leaseMs: 10_000, clock });
    const b = new LeaseLock({ store, key, owner: 'b', leaseMs: 10_000, clock });
    const guard = new FencingGuard();
    const writes: string[] = [];
    const write = (who: string, token: number): void => {
      guard.assertFresh(token, key);
      writes.push(who);
    };

    const leaseA = await a.acquire();
    expect(leaseA?.token).toBeGreaterThan(0);
    write('a1', leaseA!.token);
    expect(await b.acquire()).toBeUndefined();

    // a is paused (GC, swap, partition) for longer than its lease.
    clock.advance(10_001);
    const leaseB = await b.acquire();
    expect(leaseB).toBeDefined();
    expect(leaseB!.token).toBeGreaterThan(leaseA!.token);
    write('b1', leaseB!.token);

    // a wakes up and writes with the token it still holds: refused.
    let refused: unknown;
    try {
      write('a2', leaseA!.token);
    } catch (error) {
      refused = error;
    }
    expect(isStaleTokenError(refused)).toBe(true);
    expect(writes).toEqual(['a1', 'b1']);
    // and it cannot renew its way back in.
    expect(await a.renew()).toBeUndefined();
    expect(a.held).toBeUndefined();
    expect((await store.current(key))?.owner).toBe('b');
  });

  it('renewing keeps the token; release frees the lock and the next grant goes higher', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { store, key } = await make(clock);
    const a = new LeaseLock({ store, key, owner: 'a', leaseMs: 1_000, clock });
    const b = new LeaseLock({ store, key, owner: 'b', leaseMs: 1_000, clock });
    const first = await a.acquire();
    clock.advance(900);
    const renewed = await a.renew();
    expect(renewed?.token).toBe(first!.token);
    expect(renewed!.expiresAt).toBe(first!.expiresAt + 900);
    clock.advance(900); // past the first expiry, within the renewed one
    expect(await b.acquire()).toBeUndefined();
    expect(a.held?.token).toBe(first!.token);
    expect(await a.acquire()).toMatchObject({ token: first!.token }); // re-acquire by the holder extends
    expect(await a.release()).toBe(true);
    expect(await store.current(key)).toBeUndefined();
    const second = await b.acquire();
    expect(second!.token).toBe(first!.token + 1);
    // a stale release does not free someone else's lease
    expect(await store.release(first!)).toBe(false);
    expect((await store.current(key))?.owner).toBe('b');
  });

  it('tokens never go backwards over many hand-overs', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { store, key } = await make(clock);
    let last = 0;
    for (let i = 0; i < 10; i++) {
      const lease = await store.tryAcquire(key, `holder-${i % 3}`, 100);
      expect(lease!.token).toBeGreaterThan(last);
      last = lease!.token;
      if (i % 2 === 0) clock.advance(101);
      else await store.release(lease!);
    }
  });

  it('concurrent acquirers: exactly one wins', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const { store, key } = await make(clock);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.tryAcquire(key, `c${i}`, 5_000)),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });
}
