import { ManualClock, setErrorHandler } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { CoarseClock } from '../src/common/CoarseClock.js';
import { TimerWheel } from '../src/common/TimerWheel.js';
import { currentDeadline, runWithDeadline } from '../src/deadline/ambient.js';
import { Deadline } from '../src/deadline/Deadline.js';
import { DEADLINE_HEADER, readDeadlineHeader, writeDeadlineHeader } from '../src/deadline/header.js';
import { isDeadlineExceededError } from '../src/deadline/DeadlineExceededError.js';
import { isTimeoutError } from '../src/timeout/TimeoutError.js';
import type { PolicyEvent } from '@ballast/core';
import { TimeoutPolicy } from '../src/timeout/TimeoutPolicy.js';

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => v,
    (e: unknown) => e,
  );

/** An operation that resolves when its signal aborts (rejecting with the reason) or after `ms`. */
function honours(clock: ManualClock, ms: number) {
  return ({ signal }: { signal: AbortSignal }): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => resolve('done'), ms);
      signal.addEventListener('abort', () => {
        clock.clearTimeout(timer);
        reject(signal.reason as Error);
      });
    });
}

describe('TimeoutPolicy (cooperative)', () => {
  it('aborts the signal at the limit and turns the late error into a TimeoutError', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ name: 'inv', timeoutMs: 100, clock });
    const events: PolicyEvent[] = [];
    timeout.onEvent((e) => events.push(e));
    const result = settle(timeout.execute(honours(clock, 1_000)));
    await clock.advanceAsync(100);
    const error = await result;
    expect(isTimeoutError(error)).toBe(true);
    expect(error).toMatchObject({ timeoutMs: 100, retryable: true });
    expect(events.map((e) => e.type)).toEqual(['failure', 'timeout']);
  });

  it('creates no timer when the signal is never read', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, clock });
    await timeout.execute(() => 'fast');
    await timeout.execute((ctx) => ctx.deadline?.remainingMs());
    expect(clock.pendingTimers).toBe(0);
  });

  it('releases the wheel entry when a call that read the signal finishes early', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, clock });
    await timeout.execute(({ signal }) => signal.aborted);
    await clock.advanceAsync(1_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('nested calls see the remaining budget shrink', async () => {
    const clock = new ManualClock(0);
    const outer = new TimeoutPolicy({ timeoutMs: 1_000, clock });
    const inner = new TimeoutPolicy({ timeoutMs: 5_000, clock });
    const seen: number[] = [];
    await outer.execute(async (ctx) => {
      seen.push(ctx.deadline!.remainingMs());
      clock.set(300);
      await inner.execute((inside) => seen.push(inside.deadline!.remainingMs()), { deadline: ctx.deadline! });
    });
    expect(seen).toEqual([1_000, 700]);
  });

  it('refuses at once, without running, when the inherited deadline already passed', async () => {
    const clock = new ManualClock(500);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, clock });
    let ran = false;
    const error = await settle(
      timeout.execute(
        () => {
          ran = true;
        },
        { deadline: new Deadline(400, clock) },
      ),
    );
    expect(ran).toBe(false);
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(error).toMatchObject({ reason: 'deadline-exceeded', overrunMs: 100 });
  });

  it('reports a DeadlineExceededError (not retryable) when the caller deadline was the tighter one', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 1_000, clock });
    const result = settle(timeout.execute(honours(clock, 5_000), { deadline: new Deadline(50, clock) }));
    await clock.advanceAsync(50);
    const error = await result;
    expect(isDeadlineExceededError(error)).toBe(true);
    expect(isTimeoutError(error)).toBe(false);
  });
});

describe('TimeoutPolicy (aggressive)', () => {
  it('rejects at the deadline while the call keeps running, and aborts its signal', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, strategy: 'aggressive', clock });
    let signal: AbortSignal | undefined;
    const result = settle(
      timeout.execute((ctx) => {
        signal = ctx.signal;
        return new Promise(() => undefined);
      }),
    );
    await clock.advanceAsync(100);
    expect(isTimeoutError(await result)).toBe(true);
    expect(signal?.aborted).toBe(true);
  });

  it('returns the result and cancels its wheel entry when the call is on time', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 100, strategy: 'aggressive', clock });
    await expect(timeout.execute(() => 'on time')).resolves.toBe('on time');
    await clock.advanceAsync(500);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Deadline, header and ambient deadline', () => {
  it('reads and writes the remaining-ms header', () => {
    const clock = new ManualClock(10_000);
    const deadline = readDeadlineHeader({ [DEADLINE_HEADER]: '750' }, { clock });
    expect(deadline?.remainingMs()).toBe(750);
    clock.set(10_100);
    expect(writeDeadlineHeader({}, deadline)).toEqual({ [DEADLINE_HEADER]: '650' });
    const fetchHeaders = new Headers();
    writeDeadlineHeader(fetchHeaders, deadline);
    expect(fetchHeaders.get(DEADLINE_HEADER)).toBe('650');
    expect(readDeadlineHeader(fetchHeaders, { clock })?.remainingMs()).toBe(650);
  });

  it.each([
    [{ [DEADLINE_HEADER]: 'soon' }, { defaultMs: 2_000 }, 2_000],
    [{}, {}, undefined],
    [{ [DEADLINE_HEADER]: '999999' }, { maxMs: 5_000 }, 5_000],
    [{ [DEADLINE_HEADER]: ['120', '900'] }, {}, 120],
    [{ [DEADLINE_HEADER]: '-5' }, {}, undefined],
  ])('header %j with %j gives %s ms', (headers, options, expected) => {
    const clock = new ManualClock(0);
    expect(readDeadlineHeader(headers, { clock, ...options })?.remainingMs()).toBe(expected);
  });

  it('runWithDeadline makes a deadline ambient for policies deep in the call tree', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 10_000, clock });
    const remaining = await runWithDeadline(new Deadline(300, clock), () =>
      timeout.execute(() => currentDeadline()?.remainingMs()),
    );
    expect(remaining).toBe(300);
    expect(currentDeadline()).toBeUndefined();
  });

  it('within() only ever tightens', () => {
    const clock = new ManualClock(0);
    const d = new Deadline(500, clock);
    expect(d.within(100).at).toBe(100);
    expect(d.within(900)).toBe(d);
  });
});

describe('TimerWheel and CoarseClock', () => {
  it('fires many entries from one clock timer, in time order, and skips cancelled ones', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, 10);
    const fired: number[] = [];
    for (const at of [35, 5, 20, 21, 500]) wheel.schedule(at, () => fired.push(at));
    const cancelled = wheel.schedule(22, () => fired.push(22));
    expect(clock.pendingTimers).toBe(1);
    wheel.cancel(cancelled);
    clock.advance(40);
    expect(fired).toEqual([5, 20, 21, 35]);
    expect(wheel.size).toBe(1);
    clock.advance(460);
    expect(fired.at(-1)).toBe(500);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a callback that throws is reported and the other entries still fire', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, 1);
    const reported: unknown[] = [];
    const previous = setErrorHandler((error) => reported.push(error));
    try {
      const fired: string[] = [];
      wheel.schedule(5, () => {
        throw new Error('boom');
      });
      wheel.schedule(5, () => fired.push('same bucket'));
      wheel.schedule(9, () => fired.push('later bucket'));
      clock.advance(10);
      expect(fired).toEqual(['same bucket', 'later bucket']);
      expect(reported).toHaveLength(1);
    } finally {
      setErrorHandler(previous);
    }
  });

  it('an entry due earlier than the armed bucket re-arms the timer', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, 1);
    const fired: number[] = [];
    wheel.schedule(100, () => fired.push(100));
    wheel.schedule(10, () => fired.push(10));
    clock.advance(10);
    expect(fired).toEqual([10]);
  });

  it('CoarseClock refreshes once per resolution while read, and stops ticking when idle', () => {
    const source = new ManualClock(0);
    const coarse = new CoarseClock(source, 5);
    expect(coarse.now()).toBe(0);
    source.set(3);
    expect(coarse.now()).toBe(0);
    source.advance(2);
    expect(coarse.now()).toBe(5);
    source.advance(5);
    source.advance(5);
    expect(source.pendingTimers).toBe(0);
    expect(coarse.now()).toBe(15);
  });
});
