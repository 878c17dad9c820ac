import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import type { PolicyEvent, Priority } from '@ballast/core';
import { AimdLimit } from '../src/shed/AimdLimit.js';
import {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  type LimiterPermit,
} from '../src/shed/ConcurrencyLimiter.js';
import { isRejectedError } from '../src/common/rejection.js';
import { isLoadShedError, LoadShedError } from '../src/shed/LoadShedError.js';
import { RecordingLimit } from './limit-helpers.js';
import { rng } from './limit-rng.js';

function setup(limit: number, options: Partial<ConcurrencyLimiterOptions> = {}) {
  const clock = new ManualClock(1_000);
  const algorithm = new RecordingLimit(limit);
  const limiter = new ConcurrencyLimiter({ clock, algorithm, queue: false, ...options });
  const events: PolicyEvent[] = [];
  limiter.onEvent((e) => events.push(e));
  return { clock, algorithm, limiter, events };
}

async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('ConcurrencyLimiter priority classes', () => {
  // With limit 10 and the default shares: sheddable may fill 5, default 9, critical 10.
  it.each([
    { priority: 'sheddable', admitted: 5 },
    { priority: 'default', admitted: 9 },
    { priority: 'critical', admitted: 10 },
  ] as const)('$priority work alone gets $admitted of a limit of 10', ({ priority, admitted }) => {
    const { limiter, events } = setup(10);
    const permits = Array.from({ length: 12 }, () => limiter.tryAcquire(priority));
    expect(permits.filter(Boolean)).toHaveLength(admitted);
    expect(limiter.inFlightByPriority[priority]).toBe(admitted);
    const rejected = events.filter((e) => e.type === 'rejected');
    expect(rejected).toHaveLength(12 - admitted);
    expect(rejected[0]).toEqual({
      type: 'rejected',
      policy: 'concurrency-limiter',
      kind: 'concurrency-limiter',
      reason: 'shed',
      priority,
    });
  });

  it('sheds sheddable work first as load rises, critical last', () => {
    const { limiter } = setup(10);
    for (let i = 0; i < 5; i++) expect(limiter.tryAcquire('default')).toBeDefined();
    expect(limiter.tryAcquire('sheddable')).toBeUndefined(); // 5 in flight: sheddable share used up
    for (let i = 0; i < 4; i++) expect(limiter.tryAcquire('default')).toBeDefined();
    expect(limiter.tryAcquire('default')).toBeUndefined(); // 9 in flight
    expect(limiter.tryAcquire('critical')).toBeDefined(); // critical may use all 10
    expect(limiter.tryAcquire('critical')).toBeUndefined();
    expect(limiter.inFlight).toBe(10);
    expect(limiter.inFlightByPriority).toEqual({ critical: 1, default: 9, sheddable: 0 });
  });

  it('honours custom shares', () => {
    const { limiter } = setup(10, { shares: { sheddable: 0.2, default: 0.5 } });
    expect(Array.from({ length: 5 }, () => limiter.tryAcquire('sheddable')).filter(Boolean)).toHaveLength(2);
    expect(Array.from({ length: 5 }, () => limiter.tryAcquire('default')).filter(Boolean)).toHaveLength(3);
  });
});

describe('ConcurrencyLimiter permits and samples', () => {
  it('feeds the RTT and in-flight count of each call, and no sample for ignored permits', () => {
    const { limiter, clock, algorithm } = setup(10);
    const a = limiter.tryAcquire()!;
    clock.advance(5);
    const b = limiter.tryAcquire()!;
    clock.advance(20);
    a.success();
    b.dropped();
    b.success(); // second release is ignored
    const c = limiter.tryAcquire()!;
    c.ignore();
    expect(algorithm.samples).toEqual([
      { rttMs: 25, inFlight: 1, dropped: false },
      { rttMs: 20, inFlight: 2, dropped: true },
    ]);
    expect(limiter.inFlight).toBe(0);
  });

  it('execute counts errors as drops unless isDropped says otherwise, and emits success/failure', async () => {
    const { limiter, clock, algorithm, events } = setup(10, {
      isDropped: (e) => e instanceof Error && e.message === 'overloaded',
    });
    await limiter.execute(async () => {
      await clock.advanceAsync(7);
      return 1;
    });
    await expect(limiter.execute(() => Promise.reject(new Error('overloaded')))).rejects.toThrow(
      'overloaded',
    );
    await expect(limiter.execute(() => Promise.reject(new Error('bad request')))).rejects.toThrow(
      'bad request',
    );
    expect(algorithm.samples.map((s) => s.dropped)).toEqual([false, true]);
    expect(events.map((e) => e.type)).toEqual(['success', 'failure', 'failure']);
    expect(events[0]).toMatchObject({ durationMs: 7 });
    expect(events[1]).toMatchObject({ counted: true });
    expect(events[2]).toMatchObject({ counted: false });
  });

  it('emits limit-change when the algorithm moves the limit (AIMD backs off on a drop)', async () => {
    const clock = new ManualClock(0);
    const limiter = new ConcurrencyLimiter({
      clock,
      algorithm: new AimdLimit({ initialLimit: 10 }),
      queue: false,
    });
    const events: PolicyEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    await expect(limiter.execute(() => Promise.reject(new Error('503')))).rejects.toThrow();
    expect(limiter.limit).toBe(9);
    expect(events).toContainEqual({
      type: 'limit-change',
      policy: 'concurrency-limiter',
      kind: 'concurrency-limiter',
      from: 10,
      to: 9,
    });
  });

  it('rejects execute with a branded LoadShedError when shed', async () => {
    const { limiter } = setup(1);
    limiter.tryAcquire('critical');
    const { error } = await settle(limiter.execute(() => 1, 'default'));
    expect(isLoadShedError(error)).toBe(true);
    expect(isRejectedError(error)).toBe(true); // fallbacks handle it, retries leave it alone
    expect(error).toBeInstanceOf(LoadShedError);
    expect(error).toMatchObject({ reason: 'shed', detail: 'limit', priority: 'default', limit: 1 });
  });

  it('rejects an unknown priority with the option template', () => {
    const { limiter } = setup(1);
    expect(() => limiter.tryAcquire('urgent' as Priority)).toThrow(
      "Expected `priority` to be one of 'critical', 'default', 'sheddable', got `\"urgent\"` (string)",
    );
  });
});

describe('ConcurrencyLimiter CoDel queue', () => {
  const queue = { maxSize: 3, targetMs: 5, intervalMs: 100 };

  it('admits a queued call when a permit frees, higher priority first', async () => {
    const { limiter } = setup(2, { queue, shares: { sheddable: 1, default: 1 } });
    const held = [limiter.tryAcquire()!, limiter.tryAcquire()!];
    const order: Priority[] = [];
    const waits = (['sheddable', 'default', 'critical'] as const).map((p) =>
      limiter.acquire(p).then((permit) => {
        order.push(p);
        return permit;
      }),
    );
    expect(limiter.queued).toBe(3);
    held[0]!.success();
    held[1]!.success();
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual(['critical', 'default']);
    (await waits[2]!).success();
    (await waits[1]!).success();
    expect(order).toEqual(['critical', 'default', 'sheddable']);
    expect(limiter.queued).toBe(0);
  });

  it('a call waits at most intervalMs', async () => {
    const { limiter, clock, events } = setup(1, { queue });
    limiter.tryAcquire();
    const waiting = settle(limiter.acquire('default'));
    clock.advance(99);
    expect(limiter.queued).toBe(1);
    clock.advance(1);
    const { error } = await waiting;
    expect(error).toMatchObject({ reason: 'queue-timeout', detail: 'queue-timeout' });
    expect(events.at(-1)).toMatchObject({ type: 'rejected', reason: 'queue-timeout', priority: 'default' });
  });

  it('drops queued calls once the queueing delay stayed above target for an interval, then waits at most target', async () => {
    const { limiter, clock } = setup(1, { queue: { maxSize: 10, targetMs: 5, intervalMs: 100 } });
    clock.set(0);
    let permit = limiter.tryAcquire()!;
    const results: string[] = [];
    const enqueue = (label: string) =>
      limiter.acquire().then(
        (p) => {
          results.push(`${label}:ok`);
          return p;
        },
        (e: LoadShedError) => {
          results.push(`${label}:${e.detail}`);
          return undefined;
        },
      );
    const a = enqueue('a');
    const b = enqueue('b');
    clock.advance(10); // t=10: a and b have waited 10 ms > target
    permit.success(); // a leaves above target: the interval starts, dropping from t=110
    permit = (await a)!;
    expect(results).toEqual(['a:ok']);
    clock.advance(10);
    const c = enqueue('c'); // t=20, not dropping yet: may wait up to 100 ms
    clock.advance(80); // t=100: b has waited 100 ms, its hard timeout
    await b;
    expect(results).toEqual(['a:ok', 'b:queue-timeout']);
    clock.advance(12); // t=112: past the interval
    permit.success(); // c leaves after 92 ms, above target for a whole interval: dropped at dequeue
    await c;
    expect(results).toEqual(['a:ok', 'b:queue-timeout', 'c:queue-timeout']);
    // In the dropping state a newly queued call waits at most targetMs.
    const blocker = limiter.tryAcquire()!;
    const d = enqueue('d');
    clock.advance(5);
    await d;
    expect(results.at(-1)).toBe('d:queue-timeout');
    // A call that leaves the queue within target ends the dropping state.
    const e = enqueue('e');
    clock.advance(2);
    blocker.success();
    (await e)!.success();
    const f = enqueue('f');
    expect(limiter.queued).toBe(0); // room again: admitted at once
    (await f)!.success();
    expect(results.slice(-2)).toEqual(['e:ok', 'f:ok']);
  });

  it('a full queue sheds the arrival, or the newest lower-priority call to make room for a higher one', async () => {
    const { limiter } = setup(1, { queue: { maxSize: 2 } });
    limiter.tryAcquire('critical');
    const s1 = settle(limiter.acquire('sheddable'));
    const s2 = settle(limiter.acquire('sheddable'));
    expect((await settle(limiter.acquire('sheddable'))).error).toMatchObject({
      reason: 'shed',
      detail: 'queue-full',
    });
    const c = settle(limiter.acquire('critical'));
    expect((await s2).error).toMatchObject({ detail: 'queue-full', priority: 'sheddable' });
    expect(limiter.queued).toBe(2);
    void s1;
    void c;
  });
});

describe('ConcurrencyLimiter admission matches a reference model', () => {
  it('on random acquire/release sequences with a moving limit', () => {
    const classes = ['critical', 'default', 'sheddable'] as const;
    for (let seed = 1; seed <= 40; seed++) {
      const random = rng(seed);
      const algorithm = new RecordingLimit(1 + Math.floor(random() * 30));
      const sheddable = 0.1 + random() * 0.8;
      const dflt = sheddable + random() * (1 - sheddable);
      const limiter = new ConcurrencyLimiter({
        clock: new ManualClock(0),
        algorithm,
        queue: false,
        shares: { sheddable, default: dflt },
      });
      const share = { critical: 1, default: dflt, sheddable };
      let limit = algorithm.limit;
      const held: LimiterPermit[] = [];
      const got: boolean[] = [];
      const want: boolean[] = [];
      for (let step = 0; step < 300; step++) {
        if (held.length > 0 && random() < 0.45) {
          const [permit] = held.splice(Math.floor(random() * held.length), 1);
          if (random() < 0.3) algorithm.limit = 1 + Math.floor(random() * 30); // the next sample moves the limit
          const outcome = random();
          if (outcome < 0.8) permit!.success();
          else if (outcome < 0.9) permit!.dropped();
          else permit!.ignore();
          if (outcome < 0.9) limit = algorithm.limit; // ignored permits give no sample
          continue;
        }
        const priority = classes[Math.floor(random() * 3)]!;
        const threshold = priority === 'critical' ? limit : Math.max(1, Math.floor(limit * share[priority]));
        want.push(held.length < threshold);
        const permit = limiter.tryAcquire(priority);
        got.push(permit !== undefined);
        if (permit) held.push(permit);
        expect(limiter.inFlight).toBe(held.length);
      }
      expect(got, `seed ${seed}`).toEqual(want);
      expect(limiter.limit).toBe(limit);
    }
  });
});

describe('LoadShedError', () => {
  it('captures no stack trace (shedding is routine, and thousands a second must stay cheap) and leaves the limit as it was', () => {
    const before = Error.stackTraceLimit;
    const error = new LoadShedError('queue-timeout', 'sheddable', 7);
    expect(Error.stackTraceLimit).toBe(before);
    expect(error.stack).toBe(
      'LoadShedError: sheddable call shed (queue-timeout): the concurrency limit is 7',
    );
    expect(error).toMatchObject({
      detail: 'queue-timeout',
      priority: 'sheddable',
      limit: 7,
      reason: 'queue-timeout',
    });
    expect(isLoadShedError(error)).toBe(true);
    expect(new Error('other').stack).toContain('\n    at ');
  });
});
