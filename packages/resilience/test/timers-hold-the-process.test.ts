import { type Clock, ManualClock, type TimerHandle, type TimerOptions } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { BulkheadPolicy } from '../src/bulkhead/BulkheadPolicy.js';
import { ChaosPolicy } from '../src/chaos/ChaosPolicy.js';
import { CoarseClock } from '../src/common/CoarseClock.js';
import { TimerWheel } from '../src/common/TimerWheel.js';
import { Deadline } from '../src/deadline/Deadline.js';
import { ConcurrencyLimiter } from '../src/shed/ConcurrencyLimiter.js';
import { EventLoopPressure } from '../src/shed/EventLoopPressure.js';
import { RateLimiter } from '../src/ratelimit/RateLimiter.js';
import { RetryPolicy } from '../src/retry/RetryPolicy.js';
import { TimeoutPolicy } from '../src/timeout/TimeoutPolicy.js';

// The Clock contract: a timer that settles something a caller awaits holds the process (the default); background
// work sets `ref: false`. On a ManualClock, `pendingRefTimers` counts the timers that would hold a Node process.

const never = new Promise<never>(() => {});

describe('waits a caller awaits hold the process', () => {
  it('a retry backoff', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({
      maxAttempts: 2,
      idempotent: true,
      shouldRetry: () => true,
      clock,
      random: () => 0.5,
    });
    let attempts = 0;
    const result = retry.execute(() => {
      if (attempts++ === 0) throw new Error('first attempt fails');
      return 'ok';
    });
    await clock.advanceAsync(0);
    expect(clock.pendingRefTimers).toBe(1);
    await clock.advanceAsync(60_000);
    await expect(result).resolves.toBe('ok');
    expect(clock.pendingTimers).toBe(0);
  });

  it('chaos latency', async () => {
    const clock = new ManualClock(0);
    const chaos = new ChaosPolicy({ fault: { kind: 'latency', ms: 500 }, rate: 1, enabled: true, clock });
    const result = chaos.execute(() => 42);
    await clock.advanceAsync(0);
    expect(clock.pendingRefTimers).toBe(1);
    await clock.advanceAsync(500);
    await expect(result).resolves.toBe(42);
  });

  it('an aggressive timeout racing a hung call, released once the call settles', async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 1_000, strategy: 'aggressive', clock });
    const hung = timeout.execute(() => never).catch((error: unknown) => error);
    expect(clock.pendingRefTimers).toBe(1);
    await clock.advanceAsync(1_000);
    expect(await hung).toMatchObject({ name: 'TimeoutError' });
    expect(clock.pendingRefTimers).toBe(0);

    await expect(timeout.execute(() => 'fast')).resolves.toBe('fast');
    // The call settled long before its limit: nothing may keep the process waiting for that limit.
    expect(clock.pendingRefTimers).toBe(0);
  });

  it("a cooperative timeout's signal, released once the call settles", async () => {
    const clock = new ManualClock(0);
    const timeout = new TimeoutPolicy({ timeoutMs: 1_000, clock });
    const aborted = timeout
      .execute(
        ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      )
      .catch((error: unknown) => error);
    expect(clock.pendingRefTimers).toBe(1);
    await clock.advanceAsync(1_000);
    expect(await aborted).toMatchObject({ name: 'TimeoutError' });

    await expect(timeout.execute(({ signal }) => signal.aborted)).resolves.toBe(false);
    expect(clock.pendingRefTimers).toBe(0);
  });

  it("a deadline's signal, until disposed", () => {
    const clock = new ManualClock(0);
    const deadline = Deadline.after(5_000, clock);
    expect(clock.pendingTimers).toBe(0); // no timer until the signal is read
    void deadline.signal;
    expect(clock.pendingRefTimers).toBe(1);
    deadline.dispose();
    expect(clock.pendingRefTimers).toBe(0);
  });

  it('a bulkhead queue wait', async () => {
    const clock = new ManualClock(0);
    const bulkhead = new BulkheadPolicy({ limit: 1, maxQueued: 1, queueTimeoutMs: 2_000, clock });
    let release!: () => void;
    const first = bulkhead.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const queued = bulkhead.execute(() => 'second');
    await clock.advanceAsync(0);
    expect(clock.pendingRefTimers).toBe(1);
    release();
    await first;
    await expect(queued).resolves.toBe('second');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a concurrency limiter queue wait', async () => {
    const clock = new ManualClock(0);
    const limiter = new ConcurrencyLimiter({ clock, queue: { maxSize: 4 } });
    const permits = [];
    for (let p = limiter.tryAcquire('critical'); p; p = limiter.tryAcquire('critical')) permits.push(p);
    const waiting = limiter.acquire('critical');
    expect(clock.pendingRefTimers).toBe(1);
    permits[0]!.success();
    const permit = await waiting;
    permit.success();
    for (const p of permits.slice(1)) p.success();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a rate limiter waiting for its store', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({
      rule: { limit: 10, periodMs: 1_000 },
      clock,
      storeTimeoutMs: 250,
      store: { consume: () => never },
    });
    const decision = limiter.consume('tenant');
    expect(clock.pendingRefTimers).toBe(1);
    await clock.advanceAsync(250);
    await expect(decision).resolves.toMatchObject({ allowed: true });
  });
});

describe('background work does not hold the process', () => {
  it("a coarse clock's refresh timer", () => {
    const source = new ManualClock(0);
    const coarse = new CoarseClock(source, 1);
    coarse.now();
    expect(source.pendingTimers).toBe(1);
    expect(source.pendingRefTimers).toBe(0);
  });

  it('a coarse clock passes the caller’s timer options on to its source', () => {
    const source = new ManualClock(0);
    const coarse = new CoarseClock(source, 1);
    coarse.setTimeout(() => {}, 10);
    coarse.setTimeout(() => {}, 10, { ref: false });
    expect(source.pendingRefTimers).toBe(1);
    expect(source.pendingTimers).toBe(2);
  });

  it("event-loop pressure's sampling timer", () => {
    const clock = new ManualClock(0);
    const pressure = new EventLoopPressure({ clock, sampler: () => ({ utilization: 0, delayMs: 0 }) });
    pressure.admits('default');
    expect(clock.pendingTimers).toBe(1);
    expect(clock.pendingRefTimers).toBe(0);
    pressure.close();
  });
});

/** A clock whose handles can be ref'd and unref'd like Node timers, recording what the wheel asks of them. */
class NodeLikeClock implements Clock {
  readonly inner = new ManualClock(0);
  readonly log: string[] = [];
  now(): number {
    return this.inner.now();
  }
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle {
    const handle = this.inner.setTimeout(callback, ms, options);
    this.log.push(`set ref=${String(options?.ref !== false)}`);
    return Object.assign(handle, {
      ref: () => this.log.push('ref'),
      unref: () => this.log.push('unref'),
    });
  }
  clearTimeout(handle: TimerHandle): void {
    this.log.push('clear');
    this.inner.clearTimeout(handle);
  }
}

describe('TimerWheel', () => {
  it('with Node-like handles, unrefs its timer when the last entry is cancelled and refs it on the next', () => {
    const clock = new NodeLikeClock();
    const wheel = new TimerWheel(clock, 1);
    const a = wheel.schedule(100, () => {});
    wheel.cancel(a);
    const b = wheel.schedule(200, () => {});
    wheel.cancel(b);
    expect(clock.log).toEqual(['set ref=true', 'unref', 'ref', 'unref']);
    expect(wheel.size).toBe(0);
  });

  it('with plain handles, clears its timer when the last entry is cancelled', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, 1);
    const a = wheel.schedule(100, () => {});
    const b = wheel.schedule(300, () => {});
    wheel.cancel(a);
    expect(clock.pendingRefTimers).toBe(1); // b still pending
    wheel.cancel(b);
    expect(clock.pendingTimers).toBe(0);
    let fired = 0;
    wheel.schedule(50, () => fired++);
    expect(clock.pendingRefTimers).toBe(1);
    clock.advance(50);
    expect(fired).toBe(1);
    expect(wheel.size).toBe(0);
  });

  it('re-arms unheld once only cancelled keys remain after a fire', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, 1);
    let fired = 0;
    wheel.schedule(10, () => fired++);
    const later = wheel.schedule(20, () => fired++);
    clock.advance(10);
    expect(fired).toBe(1);
    expect(clock.pendingRefTimers).toBe(1);
    wheel.cancel(later);
    expect(clock.pendingRefTimers).toBe(0);
  });
});
