import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { ExponentialBackoff } from '../src/retry/ExponentialBackoff.js';
import { Deadline } from '../src/deadline/Deadline.js';
import { RetryableError } from '../src/retry/RetryableError.js';
import type { PolicyEvent } from '@ballast/core';
import { RetryBudget } from '../src/retry/RetryBudget.js';
import { parseRetryAfter, retryAfterMs } from '../src/retry/retryAfter.js';
import { RetryPolicy } from '../src/retry/RetryPolicy.js';
import { rng } from './limit-rng.js';

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    (v) => v,
    (e: unknown) => e,
  );

/** An operation that fails `failures` times with `error()`, then returns 'ok'; counts its calls. */
function flaky(failures: number, error: () => Error = () => new RetryableError('flaky')) {
  const op = () => {
    op.calls++;
    return op.calls <= failures ? Promise.reject(error()) : Promise.resolve('ok');
  };
  op.calls = 0;
  return op;
}

const noJitter = new ExponentialBackoff({ baseMs: 100, maxMs: 1_000, jitter: 'none' });

describe('RetryPolicy', () => {
  it('retries retryable errors of idempotent operations with backoff from the injected clock', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ idempotent: true, maxAttempts: 3, backoff: noJitter, clock });
    const events: PolicyEvent[] = [];
    retry.onEvent((e) => events.push(e));
    const op = flaky(2);
    const result = retry.execute(op);
    await clock.advanceAsync(99);
    expect(op.calls).toBe(1);
    await clock.advanceAsync(1);
    expect(op.calls).toBe(2);
    await clock.advanceAsync(200);
    await expect(result).resolves.toBe('ok');
    expect(events.map((e) => (e.type === 'retry' ? `retry${e.attempt}:${e.delayMs}` : e.type))).toEqual([
      'retry1:100',
      'retry2:200',
      'success',
    ]);
  });

  it('attempts are finite by default (3 in total)', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ idempotent: true, backoff: noJitter, clock });
    const op = flaky(100);
    const result = settle(retry.execute(op));
    await clock.advanceAsync(10_000);
    expect(await result).toBeInstanceOf(RetryableError);
    expect(op.calls).toBe(3);
  });

  it.each([
    ['a non-idempotent operation', { idempotent: false }, () => new RetryableError('x'), {}],
    ['an error not marked retryable', { idempotent: true }, () => new Error('bug'), {}],
    [
      'a call that declares itself non-idempotent',
      { idempotent: true },
      () => new RetryableError('x'),
      { idempotent: false },
    ],
  ] as const)('does not retry %s', async (_name, options, error, callOptions) => {
    const retry = new RetryPolicy({ ...options, clock: new ManualClock(0) });
    const op = flaky(1, error);
    await settle(retry.execute(op, callOptions));
    expect(op.calls).toBe(1);
  });

  it('retries a non-idempotent policy when the call says it is idempotent', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ backoff: noJitter, clock });
    const op = flaky(1);
    const result = retry.execute(op, { idempotent: true });
    await clock.advanceAsync(100);
    await expect(result).resolves.toBe('ok');
  });

  it('honours Retry-After when longer than the backoff, and gives up when it is too long', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ idempotent: true, backoff: noJitter, maxRetryAfterMs: 5_000, clock });
    const op = flaky(1, () => new RetryableError('busy', { retryAfterMs: 2_000 }));
    const result = retry.execute(op);
    await clock.advanceAsync(1_999);
    expect(op.calls).toBe(1);
    await clock.advanceAsync(1);
    await expect(result).resolves.toBe('ok');
    const tooLong = flaky(1, () => new RetryableError('busy', { retryAfterMs: 60_000 }));
    await settle(retry.execute(tooLong));
    expect(tooLong.calls).toBe(1);
  });

  it('does not wait past the call deadline', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ idempotent: true, backoff: noJitter, clock });
    const op = flaky(5);
    const result = settle(retry.execute(op, { deadline: new Deadline(150, clock) }));
    await clock.advanceAsync(100);
    // Retry 1 (100 ms) fits in the 150 ms budget; retry 2 (200 ms) does not, so it gives up at once.
    expect(await result).toBeInstanceOf(RetryableError);
    expect(op.calls).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops when the shared retry budget is spent, and says so', async () => {
    const clock = new ManualClock(0);
    const budget = new RetryBudget({ minRetriesPerSec: 0.1, percentCanRetry: 0, ttlMs: 10_000, clock });
    const retry = new RetryPolicy({
      idempotent: true,
      backoff: new ExponentialBackoff({ baseMs: 0, maxMs: 0 }),
      budget,
      clock,
    });
    const events: string[] = [];
    retry.onEvent((e) => events.push(e.type));
    const op = flaky(100);
    await settle(retry.execute(op));
    expect(op.calls).toBe(2); // one retry from the 1-token reserve, then the budget is spent
    expect(events).toContain('retry-budget-exhausted');
  });

  it('an aborted caller signal stops the retry wait', async () => {
    const clock = new ManualClock(0);
    const retry = new RetryPolicy({ idempotent: true, backoff: noJitter, clock });
    const controller = new AbortController();
    const result = settle(retry.execute(flaky(5), { signal: controller.signal }));
    await clock.advanceAsync(10);
    controller.abort(new Error('gone'));
    expect(await result).toMatchObject({ message: 'gone' });
  });
});

describe('ExponentialBackoff', () => {
  const fixed = (x: number) => () => x;
  it.each([
    ['none', 1, 0.5, 100],
    ['none', 4, 0.5, 800],
    ['none', 10, 0.5, 1_000],
    ['full', 3, 0.5, 200],
    ['full', 3, 0, 0],
    ['equal', 3, 0.5, 300],
    ['equal', 3, 0, 200],
  ] as const)('%s jitter, retry %i, random %f -> %f ms', (jitter, attempt, r, expected) => {
    const b = new ExponentialBackoff({ baseMs: 100, maxMs: 1_000, jitter });
    expect(b.delayMs(attempt, 0, fixed(r))).toBeCloseTo(expected);
  });

  it('decorrelated jitter stays within [base, min(cap, 3 x previous)] (property)', () => {
    const random = rng(7);
    const b = new ExponentialBackoff({ baseMs: 50, maxMs: 2_000, jitter: 'decorrelated' });
    let previous = 0;
    for (let i = 1; i <= 500; i++) {
      const d = b.delayMs(i, previous, random);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(Math.min(2_000, Math.max(50, previous) * 3));
      previous = d;
    }
  });

  it('full jitter stays within [0, min(cap, base x 2^(n-1))] (property)', () => {
    const random = rng(8);
    const b = new ExponentialBackoff({ baseMs: 10, maxMs: 500, jitter: 'full' });
    for (let n = 1; n <= 30; n++) {
      const d = b.delayMs(n, 0, random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(500, 10 * 2 ** (n - 1)));
    }
  });
});

describe('RetryBudget', () => {
  it('matches the Finagle rule against a reference model over random traffic (property)', () => {
    for (const seed of [1, 2, 3]) {
      const random = rng(seed);
      const clock = new ManualClock(0);
      const budget = new RetryBudget({ ttlMs: 10_000, percentCanRetry: 0.2, minRetriesPerSec: 10, clock });
      const requests: number[] = [];
      const retries: number[] = [];
      for (let i = 0; i < 3_000; i++) {
        clock.set(clock.now() + Math.floor(random() * 20));
        const now = clock.now();
        // Window: the 10 one-second buckets ending with the current one.
        const from = (Math.floor(now / 1_000) - 9) * 1_000;
        if (random() < 0.5) {
          budget.deposit();
          requests.push(now);
        } else {
          const r = requests.filter((t) => t >= from).length;
          const x = retries.filter((t) => t >= from).length;
          const allowed = x + 1 <= 100 + 0.2 * r;
          expect(budget.tryWithdraw(), `seed ${seed} step ${i}`).toBe(allowed);
          if (allowed) retries.push(now);
        }
      }
    }
  });

  it('a retry storm is capped near 20% of requests plus the floor', () => {
    const clock = new ManualClock(0);
    const budget = new RetryBudget({ clock });
    let granted = 0;
    for (let i = 0; i < 10_000; i++) {
      clock.set(i); // 1,000 requests per second for 10 s, every one failing and wanting a retry
      budget.deposit();
      if (budget.tryWithdraw()) granted++;
    }
    expect(granted).toBeLessThanOrEqual(0.2 * 10_000 + 100);
    expect(granted).toBeGreaterThan(0.2 * 10_000 * 0.9);
  });
});

describe('Retry-After', () => {
  it.each([
    [{ retryAfterMs: 1500 }, 1_500],
    [{ retryAfter: 3 }, 3_000],
    [{ retryAfter: '7' }, 7_000],
    [{ headers: { 'retry-after': '2' } }, 2_000],
    [{ headers: new Headers({ 'retry-after': '4' }) }, 4_000],
    [{ response: { headers: { 'retry-after': 'Thu, 01 Jan 1970 00:00:10 GMT' } } }, 9_000],
    [{ headers: { 'retry-after': 'tomorrow' } }, undefined],
    [new Error('plain'), undefined],
  ])('%j -> %s ms', (error, expected) => {
    expect(retryAfterMs(error, 1_000)).toBe(expected);
  });

  it('an HTTP-date in the past means retry now', () => {
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', 5_000)).toBe(0);
  });
});
