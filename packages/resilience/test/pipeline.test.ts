import { ManualClock } from '@ballast/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConsecutiveBreaker } from '../src/circuit-breaker/ConsecutiveBreaker.js';
import { BulkheadPolicy } from '../src/bulkhead/BulkheadPolicy.js';
import { ChaosPolicy } from '../src/chaos/ChaosPolicy.js';
import { CircuitBreakerPolicy } from '../src/circuit-breaker/CircuitBreakerPolicy.js';
import { ExponentialBackoff } from '../src/retry/ExponentialBackoff.js';
import { Deadline } from '../src/deadline/Deadline.js';
import { isBrokenCircuitError } from '../src/circuit-breaker/BrokenCircuitError.js';
import { isTimeoutError } from '../src/timeout/TimeoutError.js';
import { RetryableError } from '../src/retry/RetryableError.js';
import type { PolicyEvent } from '@ballast/core';
import { FallbackPolicy } from '../src/fallback/FallbackPolicy.js';
import { Pipeline, pipeline } from '../src/Pipeline.js';
import { RetryPolicy } from '../src/retry/RetryPolicy.js';
import { TimeoutPolicy } from '../src/timeout/TimeoutPolicy.js';

function setup() {
  const clock = new ManualClock(0);
  const retry = new RetryPolicy({
    idempotent: true,
    maxAttempts: 3,
    backoff: new ExponentialBackoff({ baseMs: 0, maxMs: 0 }),
    clock,
  });
  const breaker = new CircuitBreakerPolicy({
    breaker: new ConsecutiveBreaker({ threshold: 2 }),
    halfOpenAfterMs: 1_000,
    clock,
  });
  const bulkhead = new BulkheadPolicy({ limit: 2, clock });
  const timeout = new TimeoutPolicy({ timeoutMs: 100, clock });
  return { clock, retry, breaker, bulkhead, timeout };
}

describe('pipeline', () => {
  it('runs each attempt through breaker, bulkhead and timeout; an open circuit stops the retries', async () => {
    const { clock, retry, breaker, bulkhead, timeout } = setup();
    const p = pipeline(retry, breaker, bulkhead, timeout);
    let calls = 0;
    const result = p.execute(() => {
      calls++;
      expect(bulkhead.inFlight).toBe(1);
      return Promise.reject(new RetryableError('503'));
    });
    const settled = result.then(
      () => undefined,
      (e: unknown) => e,
    );
    await clock.advanceAsync(100);
    const error = await settled;
    // Two failures open the circuit; the third attempt is refused by the breaker and not retried.
    expect(calls).toBe(2);
    expect(isBrokenCircuitError(error)).toBe(true);
    expect(bulkhead.inFlight).toBe(0);
    expect(breaker.state).toBe('open');
  });

  it('gives every attempt a fresh timeout, within the request deadline', async () => {
    const { clock, retry, timeout } = setup();
    const p = pipeline(retry, timeout);
    const seen: number[] = [];
    await p.execute(
      (ctx): string | Promise<never> => {
        seen.push(ctx.deadline!.remainingMs());
        clock.set(clock.now() + 70);
        if (ctx.attempt < 2) return Promise.reject(new RetryableError('again'));
        return 'ok';
      },
      { deadline: new Deadline(200, clock) },
    );
    // Attempt 0 at 0: its own 100 ms. Attempt 1 at 70: 100 ms. Attempt 2 at 140: the request deadline leaves 60.
    expect(seen).toEqual([100, 100, 60]);
  });

  it('turns a late failure into a retryable TimeoutError, which the retry policy retries', async () => {
    const { clock, retry, timeout } = setup();
    const p = pipeline(retry, timeout);
    let attempts = 0;
    const result = await p.execute(() => {
      attempts++;
      clock.set(clock.now() + 150);
      if (attempts === 1) return Promise.reject(new Error('socket closed'));
      return 'second try';
    });
    expect(result).toBe('second try');
    expect(attempts).toBe(2);
    const single = pipeline(timeout);
    const error = await single
      .execute(() => {
        clock.set(clock.now() + 150);
        return Promise.reject(new Error('late'));
      })
      .catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
  });

  it('is fully typed: fallbacks and chaos results widen the result type', async () => {
    const { breaker } = setup();
    const fb = new FallbackPolicy({ fallback: () => null });
    const chaos = new ChaosPolicy({ fault: { kind: 'result', value: -1 as const }, env: {} });
    const p = pipeline(fb, breaker, chaos);
    expectTypeOf(p).toEqualTypeOf<Pipeline<null | -1>>();
    const value = await p.execute(() => 'x');
    expectTypeOf(value).toEqualTypeOf<string | null | -1>();
    expect(value).toBe('x');
    expectTypeOf(await pipeline(breaker).execute(() => 1)).toEqualTypeOf<number>();
  });

  it('flattens nested pipelines, names itself after its policies, and emits its own events', async () => {
    const { retry, breaker, bulkhead, timeout } = setup();
    const inner = pipeline(bulkhead, timeout);
    const outer = new Pipeline([retry, breaker, inner]);
    expect(outer.policies.map((p) => p.kind)).toEqual(['retry', 'circuit-breaker', 'bulkhead', 'timeout']);
    expect(outer.name).toBe('retry>circuit-breaker>bulkhead>timeout');
    const events: PolicyEvent[] = [];
    outer.onEvent((e) => events.push(e));
    await outer.execute(() => 1);
    expect(events).toMatchObject([{ kind: 'pipeline', type: 'success' }]);
    expect(() => new Pipeline([{} as never])).toThrow(
      /Expected `policies\[0\]` to be a Ballast resilience policy/,
    );
  });

  it('leaves every gate it entered when an inner gate refuses', async () => {
    const { breaker, bulkhead, clock } = setup();
    const full = new BulkheadPolicy({ limit: 1, clock });
    let release!: () => void;
    const holding = full.execute(() => new Promise<void>((r) => (release = r)));
    const p = pipeline(bulkhead, breaker, full);
    await expect(p.execute(() => 1)).rejects.toMatchObject({ reason: 'bulkhead-full' });
    expect(bulkhead.inFlight).toBe(0);
    release();
    await holding;
  });

  it('an operation that throws synchronously is a failed call like any other', async () => {
    const { retry, breaker, bulkhead } = setup();
    const p = pipeline(retry, breaker, bulkhead);
    await expect(
      p.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(bulkhead.inFlight).toBe(0);
  });
});

describe('pipeline gates that make the call wait', () => {
  it('a queued call passes the gates after the bulkhead once admitted, and a queue timeout leaves the ones before', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy({ breaker: new ConsecutiveBreaker({ threshold: 1 }), clock });
    const bulkhead = new BulkheadPolicy({ limit: 1, maxQueued: 2, queueTimeoutMs: 50, clock });
    const timeout = new TimeoutPolicy({ timeoutMs: 1_000, clock });
    const p = pipeline(new RetryPolicy({ clock }), breaker, bulkhead, timeout);
    let release!: () => void;
    const first = p.execute(() => new Promise<string>((r) => (release = () => r('first'))));
    const seen: (number | undefined)[] = [];
    const second = p.execute((ctx) => {
      seen.push(ctx.deadline?.remainingMs());
      return 'second';
    });
    await clock.advanceAsync(10);
    release();
    await expect(first).resolves.toBe('first');
    await expect(second).resolves.toBe('second');
    expect(seen).toEqual([1_000]); // the timeout gate after the bulkhead ran once the call was admitted
    expect(breaker.state).toBe('closed');

    const hold = p.execute(() => new Promise<string>((r) => (release = () => r('held'))));
    const starved = p.execute(() => 'never').catch((e: unknown) => e);
    await clock.advanceAsync(50);
    expect(await starved).toMatchObject({ reason: 'queue-timeout' });
    // The breaker had admitted the starved call; leaving it with the refusal counted a failure and opened it.
    expect(breaker.state).toBe('open');
    expect(bulkhead.inFlight).toBe(1);
    release();
    await hold;
    expect(bulkhead.inFlight).toBe(0);
  });
});
