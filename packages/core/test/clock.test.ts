import { describe, expect, it } from 'vitest';
import { type Clock, ManualClock, type TimerHandle, systemClock } from '../src/index.js';

describe('ManualClock', () => {
  it('fires timers in due order at their own due time, then lands on the target', () => {
    const clock = new ManualClock(1000);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 20);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10);
    clock.setTimeout(() => seen.push(['a2', clock.now()]), 10);
    clock.advance(15);
    expect(seen).toEqual([
      ['a', 1010],
      ['a2', 1010],
    ]);
    expect(clock.now()).toBe(1015);
    clock.advance(5);
    expect(seen.at(-1)).toEqual(['b', 1020]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not fire cleared timers and fires timers set by a timer within the same advance', () => {
    const clock = new ManualClock();
    let fired = 0;
    const handle = clock.setTimeout(() => fired++, 5);
    clock.clearTimeout(handle);
    clock.setTimeout(() => clock.setTimeout(() => fired++, 5), 5);
    clock.advance(10);
    expect(fired).toBe(1);
  });

  it('lets awaited code schedule follow-up timers during advanceAsync', async () => {
    const clock = new ManualClock();
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const steps: number[] = [];
    const done = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(100);
        steps.push(clock.now());
      }
    })();
    await clock.advanceAsync(300);
    await done;
    expect(steps).toEqual([100, 200, 300]);
  });

  it('rejects a non-finite start with the option template', () => {
    expect(() => new ManualClock(Number.NaN)).toThrow(
      'Expected `start` to be a finite number, got `NaN` (number)',
    );
  });
});

describe('systemClock', () => {
  it('reads epoch milliseconds close to Date.now()', () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1000);
  });
});

describe('Clock contract: which timers hold the process', () => {
  it('systemClock timers hold the process by default, like Node timers', () => {
    const held = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
    const explicit = systemClock.setTimeout(() => {}, 60_000, { ref: true }) as NodeJS.Timeout;
    try {
      expect(held.hasRef()).toBe(true);
      expect(explicit.hasRef()).toBe(true);
    } finally {
      systemClock.clearTimeout(held);
      systemClock.clearTimeout(explicit);
    }
  });

  it('systemClock timers set with ref: false do not hold the process', () => {
    const background = systemClock.setTimeout(() => {}, 60_000, { ref: false }) as NodeJS.Timeout;
    try {
      expect(background.hasRef()).toBe(false);
    } finally {
      systemClock.clearTimeout(background);
    }
  });

  it('ManualClock counts the pending timers that would hold the process', () => {
    const clock = new ManualClock(0);
    const awaited = clock.setTimeout(() => {}, 10);
    clock.setTimeout(() => {}, 20, { ref: false });
    clock.setTimeout(() => {}, 30, { ref: true });
    expect(clock.pendingTimers).toBe(3);
    expect(clock.pendingRefTimers).toBe(2);
    clock.clearTimeout(awaited);
    expect(clock.pendingRefTimers).toBe(1);
    clock.advance(30);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.pendingRefTimers).toBe(0);
  });

  it('a Clock written before timer options existed is still a Clock', () => {
    // Two-parameter setTimeout, as custom clocks were written before `TimerOptions`: it must still type-check as
    // a Clock, and callers passing options to it must still get their timer.
    const inner = new ManualClock(0);
    const legacy: Clock = {
      now: () => inner.now(),
      setTimeout: (callback: () => void, ms: number): TimerHandle => inner.setTimeout(callback, ms),
      clearTimeout: (handle: TimerHandle) => inner.clearTimeout(handle),
    };
    let fired = 0;
    legacy.setTimeout(() => fired++, 5, { ref: false });
    inner.advance(5);
    expect(fired).toBe(1);
  });
});
