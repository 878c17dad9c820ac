import { describe, expect, it } from 'vitest';
import { CountWindowBreaker } from '../src/circuit-breaker/CountWindowBreaker.js';
import { TimeWindowBreaker } from '../src/circuit-breaker/TimeWindowBreaker.js';
import { rng as prng } from './limit-rng.js';

interface Outcome {
  at: number;
  failed: boolean;
  slow: boolean;
}

/** The reference model: keep every call, decide from the ones in the window, by the definition. */
function referenceDecision(
  window: Outcome[],
  minimumCalls: number,
  failureRate: number,
  slowRate: number,
): boolean {
  const total = window.length;
  const failures = window.filter((o) => o.failed).length;
  const slow = window.filter((o) => o.slow).length;
  return total >= minimumCalls && (failures / total >= failureRate || slow / total >= slowRate);
}

describe('CountWindowBreaker (property: matches the reference model)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random sequence, seed %i', (seed) => {
    const random = prng(seed);
    const size = 1 + Math.floor(random() * 30);
    const minimumCalls = 1 + Math.floor(random() * size);
    const failureRate = 0.1 + random() * 0.9;
    const slowRate = 0.1 + random() * 0.9;
    const breaker = new CountWindowBreaker({
      size,
      minimumCalls,
      failureRateThreshold: failureRate,
      slowCallRateThreshold: slowRate,
    });
    const all: Outcome[] = [];
    const pFail = random();
    for (let i = 0; i < 500; i++) {
      const o = { at: i, failed: random() < pFail, slow: random() < 0.3 };
      all.push(o);
      const decided = breaker.record(o.failed, o.slow);
      const expected = referenceDecision(all.slice(-size), minimumCalls, failureRate, slowRate);
      expect(decided, `call ${i}`).toBe(expected);
      if (random() < 0.01) {
        breaker.reset();
        all.length = 0;
      }
    }
  });

  it('snapshot round-trips the window', () => {
    const a = new CountWindowBreaker({ size: 4, minimumCalls: 4 });
    a.record(true, false);
    a.record(false, true);
    a.record(false, false);
    a.record(true, true);
    a.record(false, false);
    const b = new CountWindowBreaker({ size: 4, minimumCalls: 4 });
    b.hydrate(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.counts).toEqual(a.counts);
    expect(b.record(true, false)).toBe(a.record(true, false));
  });
});

describe('TimeWindowBreaker (property: matches the reference model)', () => {
  it.each([11, 12, 13, 14, 15, 16])('random sequence with time gaps, seed %i', (seed) => {
    const random = prng(seed);
    const buckets = 1 + Math.floor(random() * 10);
    const width = 10 + Math.floor(random() * 100);
    const windowMs = buckets * width;
    const minimumCalls = 1 + Math.floor(random() * 20);
    const failureRate = 0.1 + random() * 0.9;
    const breaker = new TimeWindowBreaker({
      windowMs,
      buckets,
      minimumCalls,
      failureRateThreshold: failureRate,
    });
    const all: Outcome[] = [];
    let now = 0;
    for (let i = 0; i < 600; i++) {
      now += random() < 0.1 ? Math.floor(random() * windowMs * 2) : Math.floor(random() * 5);
      const o = { at: now, failed: random() < 0.4, slow: false };
      all.push(o);
      // The window is the buckets that end after now - windowMs, in whole buckets.
      const firstBucket = Math.floor(now / width) - buckets + 1;
      const inWindow = all.filter((x) => Math.floor(x.at / width) >= firstBucket);
      expect(breaker.record(o.failed, o.slow, now), `call ${i} at ${now}`).toBe(
        referenceDecision(inWindow, minimumCalls, failureRate, 1),
      );
      expect(breaker.counts(now).total).toBe(inWindow.length);
    }
  });

  it('forgets calls older than the window', () => {
    const breaker = new TimeWindowBreaker({ windowMs: 1_000, buckets: 10, minimumCalls: 2 });
    expect(breaker.record(true, false, 0)).toBe(false);
    expect(breaker.record(true, false, 50)).toBe(true);
    expect(breaker.counts(1_099).total).toBe(0);
  });

  it('snapshot round-trips through JSON', () => {
    const a = new TimeWindowBreaker({ windowMs: 1_000, buckets: 10, minimumCalls: 3 });
    a.record(true, false, 0);
    a.record(false, true, 150);
    a.record(true, false, 420);
    const b = new TimeWindowBreaker({ windowMs: 1_000, buckets: 10, minimumCalls: 3 });
    b.hydrate(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.counts(500)).toEqual(a.counts(500));
    expect(() => b.hydrate({ kind: 'count-window', calls: [] })).toThrow(TypeError);
  });
});
