import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { StaleTokenError, isStaleTokenError } from '../src/lock/StaleTokenError.js';
import { FencingGuard } from '../src/lock/FencingGuard.js';
import { LeaseLock } from '../src/lock/LeaseLock.js';
import { MemoryLeaseStore } from '../src/lock/MemoryLeaseStore.js';
import { PostgresLeaseStore } from '../src/lock/PostgresLeaseStore.js';
import { leaseStoreContract } from './lock-contract.js';

describe('MemoryLeaseStore', () => {
  leaseStoreContract((clock) => Promise.resolve({ store: new MemoryLeaseStore({ clock }), key: 'k' }));
});

describe('FencingGuard', () => {
  it.each([
    { seen: [], token: 0, ok: true },
    { seen: [3], token: 3, ok: true },
    { seen: [3], token: 4, ok: true },
    { seen: [3, 5], token: 4, ok: false },
    { seen: [9], token: 1, ok: false },
  ])('after $seen, token $token accepted: $ok', ({ seen, token, ok }) => {
    const guard = new FencingGuard();
    for (const s of seen) guard.assertFresh(s, 'r');
    expect(guard.tryAccept(token, 'r')).toBe(ok);
  });

  it('resources are fenced independently and the error says who and what', () => {
    const guard = new FencingGuard();
    guard.assertFresh(5, 'orders');
    guard.assertFresh(1, 'ledger');
    let error: unknown;
    try {
      guard.assertFresh(4, 'orders');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StaleTokenError);
    expect(isStaleTokenError(error)).toBe(true);
    expect((error as StaleTokenError).message).toBe(
      'Stale fencing token for "orders": got 4, but 5 has been seen; the lease was lost',
    );
    expect(guard.highest('orders')).toBe(5);
  });

  it('refuses a token that is not a safe integer', () => {
    expect(() => new FencingGuard().assertFresh(1.5)).toThrow(
      'Expected `token` to be a safe integer >= 0, got `1.5` (number)',
    );
  });
});

describe('lock options', () => {
  it('bad options get the shared template', () => {
    const store = new MemoryLeaseStore({ clock: new ManualClock() });
    expect(() => new LeaseLock({ store, key: '' })).toThrow('Expected `key` to be a non-empty string');
    expect(() => new LeaseLock({ store, key: 'k', leaseMs: 0 })).toThrow(
      'Expected `leaseMs` to be an integer >= 1',
    );
    expect(
      () => new PostgresLeaseStore({ query: () => Promise.resolve({ rows: [] }), table: 'x; drop' }),
    ).toThrow('Expected `table` to be a lower-case SQL identifier');
  });

  it('held turns undefined on the holder clock once the lease may have ended', async () => {
    const clock = new ManualClock(0);
    const lock = new LeaseLock({ store: new MemoryLeaseStore({ clock }), key: 'k', leaseMs: 100, clock });
    await lock.acquire();
    clock.advance(99);
    expect(lock.held).toBeDefined();
    clock.advance(1);
    expect(lock.held).toBeUndefined();
  });
});
