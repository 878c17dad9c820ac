import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { Deadline } from '../src/deadline/Deadline.js';
import { isDeadlineExceededError } from '../src/deadline/DeadlineExceededError.js';
import { isTimeoutError } from '../src/timeout/TimeoutError.js';
import { RetryPolicy } from '../src/retry/RetryPolicy.js';
import { TimeoutPolicy } from '../src/timeout/TimeoutPolicy.js';

describe('CallContext.signal', () => {
  it('without deadline or caller signal it never aborts, and costs no timer', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ clock });
    const signal = await retry.execute((ctx) => ctx.signal);
    expect(signal.aborted).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('follows the caller signal', async () => {
    const controller = new AbortController();
    const retry = new RetryPolicy({ clock: new ManualClock(0) });
    const signal = await retry.execute((ctx) => ctx.signal, { signal: controller.signal });
    controller.abort(new Error('client closed'));
    expect(signal.aborted).toBe(true);
  });

  it('combines the caller signal and the deadline: whichever comes first aborts it', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, clock, strategy: 'aggressive' });
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = timeout
      .execute(
        (ctx) => {
          seen = ctx.signal;
          return new Promise(() => undefined);
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await clock.advanceAsync(100);
    expect(isTimeoutError(await result)).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(isDeadlineExceededError(seen?.reason)).toBe(true);
  });

  it('an aggressive timeout reports the caller deadline as DeadlineExceededError when that was tighter', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 1_000, clock, strategy: 'aggressive' });
    const result = timeout
      .execute(() => new Promise(() => undefined), { deadline: new Deadline(30, clock) })
      .catch((e: unknown) => e);
    await clock.advanceAsync(30);
    expect(isDeadlineExceededError(await result)).toBe(true);
  });

  it('a deadline read inside an attempt is the attempt deadline, and it is restored afterwards', async () => {
    const clock = new ManualClock(0);
    const outer = new Deadline(10_000, clock);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, clock });
    const inner = await timeout.execute((ctx) => ctx.deadline, { deadline: outer });
    expect(inner?.at).toBe(100);
    expect(inner).not.toBe(outer);
  });
});

describe('Deadline', () => {
  it('an already expired deadline hands out an aborted signal', () => {
    const clock = new ManualClock(50);
    const d = new Deadline(40, clock);
    expect(d.expired).toBe(true);
    expect(d.signal.aborted).toBe(true);
    expect(isDeadlineExceededError(d.signal.reason)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('one wheel timer serves many deadlines', () => {
    const clock = new ManualClock(0);
    const signals = Array.from({ length: 1_000 }, (_, i) => new Deadline(100 + (i % 3), clock).signal);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(102);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects a non-number', () => {
    expect(() => new Deadline(Number.NaN)).toThrow(TypeError);
  });
});
