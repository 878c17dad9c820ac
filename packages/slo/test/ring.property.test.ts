import { describe, expect, it } from 'vitest';
import { EventRing, type Counts } from '../src/engine/ring.js';
import { seededRandom as random } from '@ballast/testkit';

interface Recorded {
  readonly t: number;
  readonly good: number;
  readonly bad: number;
}

/** The naive model: keep every event; a bucket's share of a window is the share of its length inside it. */
function naive(events: readonly Recorded[], r: number, start: number, now: number, first: number): Counts {
  const out = { good: 0, bad: 0 };
  const head = Math.floor(now / r);
  const sb = Math.floor(start / r);
  for (const e of events) {
    // Events stamped before the head moved past them stay in their bucket; later buckets never go backwards.
    const b = Math.floor(e.t / r);
    if (b > head || b < first) continue;
    let share: number;
    if (sb === head) {
      const elapsed = now - sb * r;
      share = b === head ? (elapsed > 0 ? Math.min(1, Math.max(0, now - start) / elapsed) : 1) : 0;
    } else if (b > sb) share = 1;
    else if (b === sb) share = 1 - (start - sb * r) / r;
    else share = 0;
    out.good += share * e.good;
    out.bad += share * e.bad;
  }
  return out;
}

describe('EventRing window sums against a naive model', () => {
  it.each(Array.from({ length: 25 }, (_, i) => i + 1))('random events and windows, seed %i', (seed) => {
    const rnd = random(seed);
    const r = [1000, 60_000, 300_000][seed % 3]!;
    const span = r * (10 + Math.floor(rnd() * 200));
    const start = 1_700_000_000_000 + Math.floor(rnd() * r);
    const ring = new EventRing(r, span, start);
    const events: Recorded[] = [];
    let now = start;
    for (let step = 0; step < 400; step++) {
      // Mostly small steps, sometimes a gap longer than the whole ring.
      const gap = rnd() < 0.02 ? span * (1 + rnd()) : rnd() * r * 3;
      now += Math.floor(gap);
      const good = Math.floor(rnd() * 50);
      const bad = rnd() < 0.3 ? Math.floor(rnd() * 10) : 0;
      ring.record(now, good, bad);
      events.push({ t: now, good, bad });
      if (step % 7 === 0) {
        const later = now + Math.floor(rnd() * r * 2);
        ring.advanceTo(later);
        now = later;
        for (let k = 0; k < 5; k++) {
          const aligned = rnd() < 0.5;
          let windowStart = now - Math.floor(rnd() * (span - 3 * r));
          if (aligned) windowStart = Math.floor(windowStart / r) * r;
          const got = ring.sum(windowStart, now, { good: 0, bad: 0 });
          const want = naive(events, r, windowStart, now, Math.floor(start / r));
          expect(got.good).toBeCloseTo(want.good, 6);
          expect(got.bad).toBeCloseTo(want.bad, 6);
          if (aligned && Math.floor(windowStart / r) !== Math.floor(now / r)) {
            // Aligned to a bucket: exactly the events stamped in [windowStart, now].
            const exact = events.filter((e) => e.t >= windowStart && e.t <= now);
            expect(got.good).toBe(exact.reduce((s, e) => s + e.good, 0));
            expect(got.bad).toBe(exact.reduce((s, e) => s + e.bad, 0));
          }
        }
      }
    }
  });

  it('counts an event stamped before the head (a clock that stepped back) in the head bucket', () => {
    const ring = new EventRing(1000, 60_000, 0);
    ring.record(10_500, 1, 0);
    ring.record(3_000, 0, 1);
    expect(ring.sum(10_000, 10_999, { good: 0, bad: 0 })).toEqual({ good: 1, bad: 1 });
  });

  it('forgets everything after a gap longer than the ring', () => {
    const ring = new EventRing(1000, 10_000, 0);
    ring.record(500, 5, 5);
    ring.record(1_000_000, 1, 0);
    expect(ring.sum(0, 1_000_000, { good: 0, bad: 0 })).toEqual({ good: 1, bad: 0 });
  });

  it('keeps bounded memory: 16 bytes a bucket, 32 with time slices', () => {
    const minute = 60_000;
    const thirtyDays = 30 * 24 * 60 * minute;
    expect(new EventRing(minute, thirtyDays, 0).byteLength).toBe((43_200 + 3) * 16);
    expect(new EventRing(minute, thirtyDays, 0, 0.95).byteLength).toBe((43_200 + 3) * 32);
  });
});

describe('time slices', () => {
  it('classifies each completed bucket as a good or bad slice and skips empty ones', () => {
    const ring = new EventRing(60_000, 3_600_000, 0, 0.95);
    const ratios = [1, 0.99, 0.9, null, 0.95, 0.5, 1];
    ratios.forEach((ratio, minute) => {
      if (ratio !== null) ring.record(minute * 60_000 + 1, ratio * 100, (1 - ratio) * 100);
    });
    ring.advanceTo(7 * 60_000);
    // Slices 0..6: good 1, 0.99, 0.95, 1; bad 0.9, 0.5; minute 3 had no events.
    expect(ring.sumSlices(0, { good: 0, bad: 0 })).toEqual({ good: 4, bad: 2 });
    expect(ring.sumSlices(4 * 60_000, { good: 0, bad: 0 })).toEqual({ good: 2, bad: 1 });
    // The slice in progress is not counted until it completes.
    ring.record(7 * 60_000 + 5, 0, 100);
    expect(ring.sumSlices(0, { good: 0, bad: 0 })).toEqual({ good: 4, bad: 2 });
  });
});
