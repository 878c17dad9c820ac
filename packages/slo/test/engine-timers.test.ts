import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { defineSlo } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';

const availability = defineSlo({
  service: 'checkout',
  name: 'availability',
  objective: 0.99,
  window: '30d',
  indicator: { bad: 'errors_total', total: 'requests_total' },
});

describe('SloEngine timers', () => {
  it('evaluation and timestamp ticks are background work: they never hold the process', () => {
    const clock = new ManualClock(0);
    const engine = new SloEngine({
      slos: [availability],
      clock,
      evaluateEveryMs: 60_000,
      timestampResolutionMs: 1_000,
    });
    expect(clock.pendingTimers).toBe(2);
    expect(clock.pendingRefTimers).toBe(0);
    clock.advance(120_000); // the timers re-arm themselves, still in the background
    expect(clock.pendingTimers).toBe(2);
    expect(clock.pendingRefTimers).toBe(0);
    engine.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
