import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@ballast/core';
import { isRejectedError } from '../src/common/rejection.js';
import { AdaptiveThrottle } from '../src/shed/AdaptiveThrottle.js';
import { isThrottledError } from '../src/shed/ThrottledError.js';
import { rng } from './limit-rng.js';

/** Feeds `requests` attempts of which the first `accepts` are accepted, never throttling (random = 1). */
function fill(throttle: AdaptiveThrottle, requests: number, accepts: number): void {
  for (let i = 0; i < requests; i++) {
    throttle.attempt();
    if (i < accepts) throttle.accepted();
  }
}

describe('AdaptiveThrottle probability', () => {
  it.each([
    // P = max(0, (requests - K * accepts) / (requests + 1))
    { k: 2, requests: 0, accepts: 0, p: 0 },
    { k: 2, requests: 100, accepts: 100, p: 0 },
    { k: 2, requests: 100, accepts: 50, p: 0 },
    { k: 2, requests: 100, accepts: 40, p: 20 / 101 },
    { k: 2, requests: 100, accepts: 0, p: 100 / 101 },
    { k: 1.1, requests: 100, accepts: 50, p: 45 / 101 },
    { k: 3, requests: 99, accepts: 30, p: 9 / 100 },
  ])('K=$k, $requests requests, $accepts accepts -> P=$p', ({ k, requests, accepts, p }) => {
    const throttle = new AdaptiveThrottle({ k, clock: new ManualClock(0), random: () => 1 });
    fill(throttle, requests, accepts);
    expect(throttle.requests).toBe(requests);
    expect(throttle.accepts).toBe(accepts);
    expect(throttle.rejectionProbability).toBeCloseTo(p, 12);
  });

  it.each([
    // minRequests: P is 0 while the window holds fewer requests; maxRejectionProbability caps it.
    { options: { minRequests: 20 }, requests: 19, accepts: 0, p: 0 },
    { options: { minRequests: 20 }, requests: 20, accepts: 0, p: 20 / 21 },
    { options: { minRequests: 20 }, requests: 20, accepts: 8, p: 4 / 21 },
    { options: { maxRejectionProbability: 0.8 }, requests: 100, accepts: 0, p: 0.8 },
    { options: { maxRejectionProbability: 0.8 }, requests: 100, accepts: 40, p: 20 / 101 },
    { options: { minRequests: 5, maxRejectionProbability: 0.5 }, requests: 4, accepts: 0, p: 0 },
    { options: { minRequests: 5, maxRejectionProbability: 0.5 }, requests: 5, accepts: 0, p: 0.5 },
  ])('$options, $requests requests, $accepts accepts -> P=$p', ({ options, requests, accepts, p }) => {
    const throttle = new AdaptiveThrottle({ ...options, clock: new ManualClock(0), random: () => 1 });
    fill(throttle, requests, accepts);
    expect(throttle.rejectionProbability).toBeCloseTo(p, 12);
  });

  it('with a cap, recovers within a few windows of the backend coming back; without, it stays shut', () => {
    // 10 requests a second, a 10 s window; the backend rejects everything for 30 s, then accepts everything.
    const run = (maxRejectionProbability: number) => {
      const clock = new ManualClock(0);
      const random = rng(5);
      const throttle = new AdaptiveThrottle({ clock, windowMs: 10_000, random, maxRejectionProbability });
      const throttledBetween = (from: number, to: number, healthy: boolean) => {
        let throttled = 0;
        for (let t = from; t < to; t += 100) {
          clock.set(t);
          if (!throttle.attempt()) throttled++;
          else if (healthy) throttle.accepted();
        }
        return throttled / ((to - from) / 100);
      };
      throttledBetween(0, 30_000, false);
      throttledBetween(30_000, 60_000, true);
      return throttledBetween(60_000, 70_000, true);
    };
    expect(run(0.8)).toBe(0);
    expect(run(1)).toBeGreaterThan(0.5);
  });

  it('throttles when the random draw falls under P and emits a rejection', async () => {
    let draws: number[] = [];
    const fresh = new AdaptiveThrottle({ clock: new ManualClock(0), random: () => draws.shift() ?? 1 });
    const events: PolicyEvent[] = [];
    fresh.onEvent((e) => events.push(e));
    fill(fresh, 3, 0); // P = 3/4 = 0.75
    draws = [0.5, 0.1];
    const first = await fresh.execute(() => 'sent').catch((e: unknown) => e); // draw 0.5 < 0.75: throttled
    expect(isThrottledError(first)).toBe(true);
    expect(first).toMatchObject({ probability: 0.75, reason: 'throttled' });
    expect(isRejectedError(first)).toBe(true);
    expect(events).toEqual([
      { type: 'rejected', policy: 'adaptive-throttle', kind: 'adaptive-throttle', reason: 'throttled' },
    ]);
    // Throttled requests still count as requests: now 4 requests, 0 accepts, P = 4/5; draw 0.1 < 0.8
    expect(fresh.requests).toBe(4);
    await expect(fresh.execute(() => 'sent')).rejects.toSatisfy(isThrottledError);
    expect(await fresh.execute(() => 'sent')).toBe('sent'); // draws exhausted: 1 is never < P
    expect(fresh.accepts).toBe(1);
  });

  it('counts errors as backend rejections unless isRejection says otherwise', async () => {
    const throttle = new AdaptiveThrottle({
      clock: new ManualClock(0),
      random: () => 1,
      isRejection: (e) => e instanceof Error && e.message === '503',
    });
    await expect(throttle.execute(() => Promise.reject(new Error('503')))).rejects.toThrow();
    await expect(throttle.execute(() => Promise.reject(new Error('404')))).rejects.toThrow();
    expect([throttle.requests, throttle.accepts]).toEqual([2, 1]);
  });
});

describe('AdaptiveThrottle sliding window', () => {
  it('forgets counts older than the window, one bucket at a time', () => {
    const clock = new ManualClock(0);
    const throttle = new AdaptiveThrottle({ clock, windowMs: 10_000, buckets: 10, random: () => 1 });
    fill(throttle, 10, 2); // bucket 0
    clock.advance(5_000);
    fill(throttle, 5, 5); // bucket 5
    expect([throttle.requests, throttle.accepts]).toEqual([15, 7]);
    clock.advance(4_999); // t=9999: bucket 9, bucket 0 still inside
    expect(throttle.requests).toBe(15);
    clock.advance(1); // t=10000: bucket 10 replaces bucket 0
    expect([throttle.requests, throttle.accepts]).toEqual([5, 5]);
    clock.advance(60_000); // far beyond the window
    expect([throttle.requests, throttle.accepts]).toEqual([0, 0]);
  });

  it('matches a reference model (an event log filtered by bucket) on random sequences', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const clock = new ManualClock(Math.floor(random() * 1e6));
      const windowMs = 1000 + Math.floor(random() * 20_000);
      const buckets = 1 + Math.floor(random() * 30);
      const k = 1 + random() * 2;
      const throttle = new AdaptiveThrottle({ clock, windowMs, buckets, k, random: () => 1 });
      const bucketMs = windowMs / buckets;
      const log: { at: number; accepted: boolean }[] = [];
      const got: number[] = [];
      const want: number[] = [];
      for (let i = 0; i < 300; i++) {
        clock.advance(Math.floor(random() * random() * windowMs * 0.3));
        const now = Math.floor(clock.now() / bucketMs);
        const live = log.filter((e) => Math.floor(e.at / bucketMs) > now - buckets);
        const requests = live.length;
        const accepts = live.filter((e) => e.accepted).length;
        want.push(Math.max(0, (requests - k * accepts) / (requests + 1)));
        got.push(throttle.rejectionProbability);
        throttle.attempt();
        const accepted = random() < 0.6;
        if (accepted) throttle.accepted();
        log.push({ at: clock.now(), accepted });
      }
      expect(
        got.map((p) => p.toFixed(12)),
        `seed ${seed}`,
      ).toEqual(want.map((p) => p.toFixed(12)));
    }
  });

  it.each([
    [{ k: 0 }, 'Expected `k` to be a finite number > 0, got `0` (number)'],
    [{ windowMs: -1 }, 'Expected `windowMs` to be a finite number > 0, got `-1` (number)'],
    [{ buckets: 1.5 }, 'Expected `buckets` to be an integer >= 1 <= 10000, got `1.5` (number)'],
    [{ random: 4 }, 'Expected `random` to be a function, got `4` (number)'],
    [{ minRequests: -1 }, 'Expected `minRequests` to be a finite number >= 0, got `-1` (number)'],
    [
      { maxRejectionProbability: 0 },
      'Expected `maxRejectionProbability` to be a finite number > 0 <= 1, got `0` (number)',
    ],
    [
      { maxRejectionProbability: 1.5 },
      'Expected `maxRejectionProbability` to be a finite number > 0 <= 1, got `1.5` (number)',
    ],
  ])('rejects bad options %j', (options, message) => {
    expect(() => new AdaptiveThrottle(options as never)).toThrow(new TypeError(message));
  });
});
