import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@ballast/core';
import { gcra } from '../src/ratelimit/gcra.js';
import { MemoryRateLimitStore } from '../src/ratelimit/MemoryRateLimitStore.js';
import { RateLimiter } from '../src/ratelimit/RateLimiter.js';
import { gcraParams, type RateLimitDecision } from '../src/ratelimit/RateLimitRule.js';
import type { RateLimitStore } from '../src/ratelimit/RateLimitStore.js';
import { rng } from './limit-rng.js';

/**
 * The reference: a token bucket of `burst` tokens refilled continuously at one token per `emissionMs`. Tokens are
 * kept in milliseconds of credit (tokens * emissionMs) so that, with integer inputs, the model is exact.
 */
class TokenBucket {
  credit: number;
  last: number;
  constructor(
    readonly burst: number,
    readonly emissionMs: number,
    now: number,
  ) {
    this.credit = burst * emissionMs;
    this.last = now;
  }
  take(now: number, cost: number) {
    this.credit = Math.min(this.burst * this.emissionMs, this.credit + (now - this.last));
    this.last = now;
    const need = cost * this.emissionMs;
    if (this.credit >= need) {
      this.credit -= need;
      return { allowed: true, remaining: Math.floor(this.credit / this.emissionMs), retryAfterMs: 0 };
    }
    return {
      allowed: false,
      remaining: Math.floor(this.credit / this.emissionMs),
      retryAfterMs: need - this.credit,
    };
  }
}

describe('gcra', () => {
  const params = gcraParams({ limit: 10, periodMs: 1000 }); // T = 100 ms, burst 10
  it.each([
    // [tat, now, cost] -> decision
    { tat: undefined, now: 0, cost: 1, allowed: true, remaining: 9, reset: 100, retry: 0 },
    { tat: 900, now: 0, cost: 1, allowed: true, remaining: 0, reset: 1000, retry: 0 },
    { tat: 1000, now: 0, cost: 1, allowed: false, remaining: 0, reset: 1000, retry: 100 },
    { tat: 1000, now: 50, cost: 1, allowed: false, remaining: 0, reset: 950, retry: 50 },
    { tat: 1000, now: 100, cost: 1, allowed: true, remaining: 0, reset: 1000, retry: 0 },
    { tat: 500, now: 0, cost: 6, allowed: false, remaining: 5, reset: 500, retry: 100 },
    { tat: 500, now: 0, cost: 5, allowed: true, remaining: 0, reset: 1000, retry: 0 },
    { tat: 10, now: 5000, cost: 1, allowed: true, remaining: 9, reset: 100, retry: 0 },
    { tat: undefined, now: 0, cost: 0, allowed: true, remaining: 10, reset: 0, retry: 0 },
  ])(
    'tat=$tat now=$now cost=$cost -> allowed=$allowed',
    ({ tat, now, cost, allowed, remaining, reset, retry }) => {
      const d = gcra(tat, now, params, cost);
      expect({
        allowed: d.allowed,
        remaining: d.remaining,
        reset: d.resetAfterMs,
        retry: d.retryAfterMs,
      }).toEqual({
        allowed,
        remaining,
        reset,
        retry,
      });
      expect(d.limit).toBe(10);
    },
  );

  it('agrees with a token bucket on random request sequences', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = rng(seed);
      const limit = 1 + Math.floor(random() * 50);
      const emissionMs = 1 + Math.floor(random() * 200); // integer: both models are exact
      const burst = 1 + Math.floor(random() * 30);
      const p = gcraParams({ limit, periodMs: emissionMs * limit, burst });
      let now = Math.floor(random() * 1e9);
      const bucket = new TokenBucket(burst, emissionMs, now);
      let tat: number | undefined;
      const got: unknown[] = [];
      const want: unknown[] = [];
      for (let i = 0; i < 400; i++) {
        now += Math.floor(random() * random() * emissionMs * 3);
        const cost = random() < 0.8 ? 1 : Math.floor(random() * (burst + 1));
        const d = gcra(tat, now, p, cost);
        if (d.allowed) tat = d.tat;
        got.push({ allowed: d.allowed, remaining: d.remaining, retryAfterMs: d.retryAfterMs });
        want.push(bucket.take(now, cost));
      }
      expect(got, `seed ${seed}`).toEqual(want);
    }
  });

  it('admits exactly `limit` per period at a steady rate, with fractional emission intervals', () => {
    const p = gcraParams({ limit: 3, periodMs: 1000, burst: 1 });
    let tat: number | undefined;
    let admitted = 0;
    for (let now = 0; now < 10_000; now++) {
      const d = gcra(tat, now, p, 1);
      if (d.allowed) {
        tat = d.tat;
        admitted++;
      }
    }
    expect(admitted).toBe(30);
  });

  it.each([
    [{ limit: 0, periodMs: 1000 }, 'Expected `rule.limit` to be an integer >= 1, got `0` (number)'],
    [{ limit: 5 }, 'Expected `rule.periodMs` to be a finite number > 0, got `undefined` (undefined)'],
    [
      { limit: 5, periodMs: 1000, burst: 0.5 },
      'Expected `rule.burst` to be an integer >= 1, got `0.5` (number)',
    ],
  ])('validates rules: %j', (rule, message) => {
    expect(() => gcraParams(rule as never)).toThrow(new TypeError(message));
  });
});

describe('MemoryRateLimitStore', () => {
  const p = gcraParams({ limit: 10, periodMs: 1000 });

  it('never holds more than maxKeys under a flood of random keys, and never forgets a key in use', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 100 });
    for (let i = 0; i < 10; i++) store.consume('hot', p, 1, 0);
    let largest = 0;
    for (let i = 0; i < 10_000; i++) {
      store.consume(`random-${i}`, p, 1, 0);
      if (i % 40 === 0) store.consume('hot', p, 1, 0); // used within every generation of 50 new keys
      largest = Math.max(largest, store.size);
    }
    expect(largest).toBeLessThanOrEqual(100);
    expect(largest).toBeGreaterThan(90);
    expect(store.consume('hot', p, 1, 0).allowed).toBe(false); // still remembered as spent
  });

  it('lets idle keys go as new keys arrive (they come back with a full burst)', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 1000 });
    for (let i = 0; i < 10; i++) store.consume('idle', p, 1, 0);
    expect(store.consume('idle', p, 1, 0).allowed).toBe(false);
    for (let i = 0; i < 1000; i++) store.consume(`k${i}`, p, 1, 0); // two generations of 500
    expect(store.size).toBeLessThanOrEqual(1000);
    expect(store.consume('idle', p, 1, 0)).toMatchObject({ allowed: true, remaining: 9 }); // forgotten
  });

  it('rejects maxKeys below 2', () => {
    expect(() => new MemoryRateLimitStore({ maxKeys: 1 })).toThrow(
      'Expected `maxKeys` to be an integer >= 2, got `1` (number)',
    );
  });
});

class FakeStore implements RateLimitStore {
  mode: 'ok' | 'throw' | 'reject' | 'hang' = 'ok';
  consume(
    _key: string,
    params: ReturnType<typeof gcraParams>,
  ): RateLimitDecision | Promise<RateLimitDecision> {
    const d = {
      allowed: true,
      remaining: 1,
      resetAfterMs: 1,
      retryAfterMs: 0,
      limit: params.limit,
      periodMs: 1,
    };
    switch (this.mode) {
      case 'ok':
        return Promise.resolve(d);
      case 'throw':
        throw new Error('store broke');
      case 'reject':
        return Promise.reject(new Error('connection refused'));
      case 'hang':
        return new Promise<never>(() => {});
    }
  }
}

describe('RateLimiter', () => {
  const rule = { limit: 2, periodMs: 1000 };

  it('limits per key and emits rate-limit and rejected events', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({ rule, clock, name: 'api' });
    const events: PolicyEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    expect((await limiter.consume('a')).allowed).toBe(true);
    expect((await limiter.consume('a')).allowed).toBe(true);
    const denied = await limiter.consume('a');
    expect(denied).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterMs: 500,
      resetAfterMs: 1000,
      limit: 2,
    });
    expect((await limiter.consume('b')).allowed).toBe(true);
    clock.advance(500);
    expect((await limiter.consume('a')).allowed).toBe(true);
    expect(events.filter((e) => e.type === 'rejected')).toEqual([
      { type: 'rejected', policy: 'api', kind: 'rate-limiter', reason: 'rate-limited' },
    ]);
    expect(events[2]).toEqual({
      type: 'rate-limit',
      policy: 'api',
      kind: 'rate-limiter',
      key: 'a',
      allowed: false,
      remaining: 0,
      retryAfterMs: 500,
    });
  });

  it('uses a per-call rule (per-plan limits) and cost', async () => {
    const limiter = new RateLimiter({ rule, clock: new ManualClock(0) });
    const pro = { limit: 100, periodMs: 1000 };
    expect(await limiter.consume('t', { rule: pro, cost: 60 })).toMatchObject({
      allowed: true,
      remaining: 40,
    });
    expect(await limiter.consume('t', { rule: pro, cost: 41 })).toMatchObject({
      allowed: false,
      remaining: 40,
    });
    await expect(limiter.consume('t', { cost: 3 })).rejects.toThrow(
      "Expected `cost` to be an integer from 0 to the rule's burst (2), got `3` (number)",
    );
  });

  it.each([
    { onStoreError: 'open', mode: 'throw', allowed: true },
    { onStoreError: 'open', mode: 'reject', allowed: true },
    { onStoreError: 'closed', mode: 'throw', allowed: false },
    { onStoreError: 'closed', mode: 'reject', allowed: false },
  ] as const)('fails $onStoreError when the store fails ($mode)', async ({ onStoreError, mode, allowed }) => {
    const store = new FakeStore();
    store.mode = mode;
    const limiter = new RateLimiter({ rule, store, onStoreError, clock: new ManualClock(0) });
    const events: PolicyEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    const d = await limiter.consume('k');
    expect(d.allowed).toBe(allowed);
    expect(events[0]).toMatchObject({ type: 'store-error', failOpen: onStoreError === 'open' });
    expect((events[0] as { error: Error }).error.message).toMatch(/store broke|connection refused/);
    if (!allowed) expect(d.retryAfterMs).toBe(500);
  });

  it('fails only the calls that waited storeTimeoutMs, with one timer for all of them', async () => {
    const clock = new ManualClock(0);
    let answer: ((d: RateLimitDecision) => void) | undefined;
    const store: RateLimitStore = {
      consume: (key, params) =>
        key === 'slow'
          ? new Promise<RateLimitDecision>(() => {})
          : new Promise<RateLimitDecision>((resolve) => {
              answer = resolve;
              void params;
            }),
    };
    const limiter = new RateLimiter({ rule, store, clock, storeTimeoutMs: 100, onStoreError: 'closed' });
    const first = limiter.consume('slow'); // deadline 100
    clock.advance(60);
    const second = limiter.consume('slow'); // deadline 160
    const third = limiter.consume('fast');
    expect(clock.pendingTimers).toBe(1);
    answer!({ allowed: true, remaining: 1, resetAfterMs: 1, retryAfterMs: 0, limit: 2, periodMs: 1000 });
    expect((await third).allowed).toBe(true);
    await clock.advanceAsync(40); // t=100
    expect((await first).allowed).toBe(false);
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await clock.advanceAsync(59);
    expect(secondDone).toBe(false);
    await clock.advanceAsync(1); // t=160
    expect((await second).allowed).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats a store that does not answer within storeTimeoutMs as failed', async () => {
    const clock = new ManualClock(0);
    const store = new FakeStore();
    store.mode = 'hang';
    const limiter = new RateLimiter({ rule, store, clock, storeTimeoutMs: 50, onStoreError: 'closed' });
    const events: PolicyEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    const pending = limiter.consume('k');
    await clock.advanceAsync(50);
    expect((await pending).allowed).toBe(false);
    expect((events[0] as { error: Error }).error.message).toBe(
      'rate-limit store did not answer within 50 ms',
    );
    store.mode = 'ok';
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect(clock.pendingTimers).toBe(1); // one shared sweep timer, not one per call
    await clock.advanceAsync(50);
    expect(clock.pendingTimers).toBe(0); // nothing waits: not re-armed
    expect(events.filter((e) => e.type === 'store-error')).toHaveLength(1);
  });

  it('answers repeat requests of a denied key locally until its retry time (async stores)', async () => {
    const clock = new ManualClock(0);
    const memory = new MemoryRateLimitStore();
    let calls = 0;
    const store: RateLimitStore = {
      consume: (key, params, cost, now) => {
        calls++;
        return Promise.resolve(memory.consume(key, params, cost, now));
      },
    };
    const limiter = new RateLimiter({ rule, store, clock });
    const events: PolicyEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    await limiter.consume('k');
    await limiter.consume('k');
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 500 });
    expect(calls).toBe(3);
    clock.advance(200);
    const local = await limiter.consume('k');
    expect(local).toEqual({
      allowed: false,
      remaining: 0,
      resetAfterMs: 800,
      retryAfterMs: 300,
      limit: 2,
      periodMs: 1000,
    });
    expect(await limiter.consume('k', { cost: 2 })).toMatchObject({ allowed: false });
    expect(calls).toBe(3); // both answered without the store
    expect(events.filter((e) => e.type === 'rejected')).toHaveLength(3); // local denials are still reported
    expect((await limiter.consume('k', { cost: 0 })).allowed).toBe(true); // a peek still asks the store
    expect((await limiter.consume('other')).allowed).toBe(true);
    expect(calls).toBe(5);
    clock.advance(300); // the retry time: back to the store, which admits it
    expect((await limiter.consume('k')).allowed).toBe(true);
    expect(calls).toBe(6);
    expect((await limiter.consume('k')).allowed).toBe(false); // denied again: remembered again
    await limiter.consume('k', { rule: { limit: 100, periodMs: 1000 } }); // another rule (a plan change) asks the store
    expect(calls).toBe(8);
  });

  it('keeps at most maxLocalDenials denied keys, and none when it is 0', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const denyAll: RateLimitStore = {
      consume: (_key, params) => {
        calls++;
        return Promise.resolve({
          allowed: false,
          remaining: 0,
          resetAfterMs: 1000,
          retryAfterMs: 1000,
          limit: params.limit,
          periodMs: params.periodMs,
        });
      },
    };
    const bounded = new RateLimiter({ rule, store: denyAll, clock, maxLocalDenials: 2 });
    for (const key of ['a', 'b', 'c', 'a', 'b', 'c']) await bounded.consume(key);
    expect(calls).toBe(6); // a is evicted by c, then b by a, and so on: FIFO of two
    for (const key of ['b', 'c']) await bounded.consume(key);
    expect(calls).toBe(6);
    calls = 0;
    const off = new RateLimiter({ rule, store: denyAll, clock, maxLocalDenials: 0 });
    for (let i = 0; i < 3; i++) await off.consume('a');
    expect(calls).toBe(3);
  });

  it('rejects bad options with the template', () => {
    expect(() => new RateLimiter({ rule, onStoreError: 'maybe' as never })).toThrow(
      "Expected `onStoreError` to be one of 'open', 'closed', got `\"maybe\"` (string)",
    );
    expect(() => new RateLimiter({ rule: { limit: 1, periodMs: 0 } })).toThrow(
      'Expected `rule.periodMs` to be a finite number > 0 <= 1099511627776, got `0` (number)',
    );
  });
});
