import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { BulkheadPolicy } from '../src/bulkhead/BulkheadPolicy.js';
import { Deadline } from '../src/deadline/Deadline.js';
import { isBulkheadRejectedError } from '../src/bulkhead/BulkheadRejectedError.js';
import type { PolicyEvent } from '@ballast/core';

function gate(): { wait: () => Promise<void>; open: () => void } {
  const waiting: (() => void)[] = [];
  return {
    wait: () => new Promise<void>((resolve) => waiting.push(resolve)),
    open: () => waiting.shift()?.(),
  };
}

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: unknown) => e,
  );

describe('BulkheadPolicy', () => {
  it('runs up to the limit, queues up to maxQueued, refuses the rest as bulkhead-full', async () => {
    const bulkhead = new BulkheadPolicy({ name: 'pg', limit: 2, maxQueued: 1, clock: new ManualClock(0) });
    const g = gate();
    const a = bulkhead.execute(g.wait);
    const b = bulkhead.execute(g.wait);
    const c = bulkhead.execute(g.wait);
    expect([bulkhead.inFlight, bulkhead.queued, bulkhead.limit]).toEqual([2, 1, 2]);
    const refused = await settle(bulkhead.execute(g.wait));
    expect(isBulkheadRejectedError(refused)).toBe(true);
    expect(refused).toMatchObject({ reason: 'bulkhead-full', limit: 2, queued: 1 });
    g.open();
    await a;
    await Promise.resolve();
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([2, 0]);
    g.open();
    g.open();
    await Promise.all([b, c]);
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([0, 0]);
  });

  it('refuses a queued call with queue-timeout after queueTimeoutMs of the injected clock', async () => {
    const clock = new ManualClock(0);
    const bulkhead = new BulkheadPolicy({ limit: 1, maxQueued: 5, queueTimeoutMs: 250, clock });
    const g = gate();
    const running = bulkhead.execute(g.wait);
    const queued = settle(bulkhead.execute(() => 'never'));
    await clock.advanceAsync(249);
    expect(bulkhead.queued).toBe(1);
    await clock.advanceAsync(1);
    const error = await queued;
    expect(error).toMatchObject({ reason: 'queue-timeout' });
    expect(String((error as Error).message)).toContain('250 ms');
    expect(bulkhead.queued).toBe(0);
    g.open();
    await running;
  });

  it('bounds the queue wait by the call deadline too', async () => {
    const clock = new ManualClock(0);
    const bulkhead = new BulkheadPolicy({ limit: 1, maxQueued: 5, queueTimeoutMs: 10_000, clock });
    const g = gate();
    const running = bulkhead.execute(g.wait);
    const queued = settle(bulkhead.execute(() => 1, { deadline: new Deadline(100, clock) }));
    await clock.advanceAsync(100);
    expect(await queued).toMatchObject({ reason: 'queue-timeout' });
    g.open();
    await running;
  });

  it('a queued call whose signal aborts leaves the queue with the abort reason', async () => {
    const bulkhead = new BulkheadPolicy({ limit: 1, maxQueued: 5, clock: new ManualClock(0) });
    const g = gate();
    const running = bulkhead.execute(g.wait);
    const controller = new AbortController();
    const queued = settle(bulkhead.execute(() => 1, { signal: controller.signal }));
    const other = bulkhead.execute(() => 'second');
    controller.abort(new Error('client went away'));
    expect(await queued).toMatchObject({ message: 'client went away' });
    expect(bulkhead.queued).toBe(1);
    g.open();
    await running;
    await expect(other).resolves.toBe('second');
  });

  it('releases the slot when the call throws, and emits events with reasons', async () => {
    const bulkhead = new BulkheadPolicy({ limit: 1, clock: new ManualClock(0) });
    const events: PolicyEvent[] = [];
    bulkhead.onEvent((e) => events.push(e));
    await settle(bulkhead.execute(() => Promise.reject(new Error('x'))));
    expect(bulkhead.inFlight).toBe(0);
    const g = gate();
    const running = bulkhead.execute(g.wait);
    await settle(bulkhead.execute(() => 1));
    g.open();
    await running;
    expect(events.map((e) => (e.type === 'rejected' ? `rejected:${e.reason}` : e.type))).toEqual([
      'failure',
      'rejected:bulkhead-full',
      'success',
    ]);
  });
});
