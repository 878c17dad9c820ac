import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@ballast/core';
import { FallbackPolicy } from '../src/fallback/FallbackPolicy.js';
import { AdaptiveThrottle } from '../src/shed/AdaptiveThrottle.js';
import { AimdLimit } from '../src/shed/AimdLimit.js';
import { ConcurrencyLimiter } from '../src/shed/ConcurrencyLimiter.js';
import { pipeline } from '../src/Pipeline.js';
import { RecordingLimit } from './limit-helpers.js';

describe('limiter and throttle inside a pipeline', () => {
  it('a shed call reaches the fallback; admitted calls feed the limit algorithm', async () => {
    const clock = new ManualClock(0);
    const algorithm = new RecordingLimit(1);
    const limiter = new ConcurrencyLimiter({
      clock,
      algorithm,
      queue: false,
      isDropped: (e) => e instanceof Error && e.message === 'overload',
    });
    const guarded = pipeline(new FallbackPolicy({ fallback: () => 'degraded' as const }), limiter);
    let release!: () => void;
    const first = guarded.execute(() => new Promise<string>((resolve) => (release = () => resolve('fresh'))));
    await Promise.resolve();
    expect(limiter.inFlight).toBe(1);
    expect(await guarded.execute(() => 'never runs')).toBe('degraded');
    clock.advance(12);
    release();
    expect(await first).toBe('fresh');
    await expect(guarded.execute(() => Promise.reject(new Error('overload')))).rejects.toThrow('overload');
    await expect(guarded.execute(() => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    expect(algorithm.samples).toEqual([
      { rttMs: 12, inFlight: 1, dropped: false },
      { rttMs: 0, inFlight: 1, dropped: true },
    ]);
    expect(limiter.inFlight).toBe(0);
  });

  it('AIMD backs off through the pipeline gate', async () => {
    const limiter = new ConcurrencyLimiter({
      clock: new ManualClock(0),
      algorithm: new AimdLimit({ initialLimit: 10 }),
    });
    await expect(pipeline(limiter).execute(() => Promise.reject(new Error('503')))).rejects.toThrow('503');
    expect(limiter.limit).toBe(9);
  });

  it('a throttled call reaches the fallback and counts as a request, not an accept', async () => {
    const throttle = new AdaptiveThrottle({ clock: new ManualClock(0), random: () => 0 });
    const events: PolicyEvent[] = [];
    throttle.onEvent((e) => events.push(e));
    const guarded = pipeline(new FallbackPolicy({ fallback: () => 'cached' as const }), throttle);
    await expect(guarded.execute(() => Promise.reject(new Error('overloaded')))).rejects.toThrow(
      'overloaded',
    );
    expect([throttle.requests, throttle.accepts]).toEqual([1, 0]);
    expect(await guarded.execute(() => 'fresh')).toBe('cached'); // P = 1/2, draw 0: throttled
    expect([throttle.requests, throttle.accepts]).toEqual([2, 0]);
    expect(events.map((e) => e.type)).toEqual(['failure', 'rejected']);
  });
});
