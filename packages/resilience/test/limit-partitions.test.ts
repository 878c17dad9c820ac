import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import type { Priority } from '@ballast/core';
import {
  ConcurrencyLimiter,
  type ConcurrencyLimiterOptions,
  type LimiterPermit,
} from '../src/shed/ConcurrencyLimiter.js';
import { isLoadShedError } from '../src/shed/LoadShedError.js';
import { RecordingLimit } from './limit-helpers.js';

function setup(limit: number, options: Partial<ConcurrencyLimiterOptions> = {}) {
  const clock = new ManualClock(1_000);
  const limiter = new ConcurrencyLimiter({
    clock,
    algorithm: new RecordingLimit(limit),
    queue: false,
    partitions: { classes: { critical: 0.5, default: 0.3, sheddable: 0.2 } },
    ...options,
  });
  return { clock, limiter };
}

function take(limiter: ConcurrencyLimiter, n: number, priority: Priority, tenant?: string): LimiterPermit[] {
  const permits: LimiterPermit[] = [];
  for (let i = 0; i < n; i++) {
    const permit = limiter.tryAcquire(priority, tenant);
    if (permit) permits.push(permit);
  }
  return permits;
}

async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe('ConcurrencyLimiter partitions (guaranteed class shares)', () => {
  it('lets one class borrow the whole limit while nobody else uses it', () => {
    const { limiter } = setup(10);
    expect(take(limiter, 12, 'sheddable')).toHaveLength(10);
    expect(limiter.inFlight).toBe(10);
  });

  it('keeps a class its reservation however much another class borrowed', () => {
    const { limiter } = setup(10);
    take(limiter, 10, 'sheddable'); // the whole limit, borrowed
    // Critical reserves 5 of 10: all five are admitted over the limit, the sixth is not.
    expect(take(limiter, 6, 'critical')).toHaveLength(5);
    expect(limiter.inFlight).toBe(15);
    // Default reserves 3.
    expect(take(limiter, 4, 'default')).toHaveLength(3);
    // Sheddable is far over its reservation of 2: nothing more.
    expect(limiter.tryAcquire('sheddable')).toBeUndefined();
  });

  it('stops borrowing while the limit is full, and borrowers are not replaced as they end', () => {
    const { limiter } = setup(10);
    const reads = take(limiter, 10, 'sheddable');
    take(limiter, 5, 'critical');
    for (const p of reads.slice(0, 5)) p.success();
    // 10 in flight (5 reads, 5 checkouts): full; reads hold 5 > 2 reserved.
    expect(limiter.tryAcquire('sheddable')).toBeUndefined();
    for (const p of reads.slice(5, 9)) p.success();
    // 6 in flight: room again, anyone may borrow.
    expect(limiter.tryAcquire('sheddable')).toBeDefined();
  });

  it('admits a class without a reservation only on borrowed capacity', () => {
    const { limiter } = setup(10, { partitions: { classes: { critical: 1 } } });
    take(limiter, 10, 'critical');
    expect(limiter.tryAcquire('sheddable')).toBeUndefined();
    expect(limiter.tryAcquire('default')).toBeUndefined();
  });

  it('queued calls of a class within its reservation run before a blocked higher class', async () => {
    const { limiter } = setup(10, { queue: { maxSize: 10, targetMs: 5, intervalMs: 100 } });
    const critical = take(limiter, 10, 'critical'); // full, critical over its reservation of 5
    const waitingCritical = settle(limiter.acquire('critical'));
    const waitingDefault = settle(limiter.acquire('default'));
    await Promise.resolve();
    // Default holds nothing of its 3 reserved: admitted though the limit is full and critical waits.
    const admitted = await waitingDefault;
    expect(admitted.value?.priority).toBe('default');
    critical[0]!.success();
    // 10 in flight again (9 critical + 1 default): the waiting checkout takes the freed place... only once below the
    // limit or within reservation; it is neither, so it waits until a second permit ends.
    critical[1]!.success();
    expect((await waitingCritical).value?.priority).toBe('critical');
  });

  it('rejects bad partitions with a clear error', () => {
    expect(() => setup(10, { partitions: { classes: { critical: 0.7, sheddable: 0.5 } } })).toThrow(
      /Expected `partitions.classes` to be fractions that add up to at most 1 \(they add up to 1.2\)/,
    );
    expect(() => setup(10, { partitions: { classes: { urgent: 0.5 } as never } })).toThrow(
      /Expected `partitions.classes` to be keys among 'critical', 'default', 'sheddable', got `"urgent"`/,
    );
    expect(() => setup(10, { partitions: { classes: { critical: -0.1 } } })).toThrow(
      /partitions.classes.critical/,
    );
    expect(() => setup(10, { partitions: { tenants: 'yes' as never } })).toThrow(
      /`partitions.tenants` to be a boolean/,
    );
    expect(() => setup(10, { shares: { sheddable: 0.5 } })).toThrow(
      /no `shares` when `partitions` are given/,
    );
  });

  it('uses the default reservations (half critical, 0.3 default, 0.2 sheddable) when only tenants are given', () => {
    const { limiter } = setup(10, { partitions: { tenants: false } });
    take(limiter, 10, 'sheddable');
    expect(take(limiter, 9, 'critical')).toHaveLength(5);
    expect(take(limiter, 9, 'default')).toHaveLength(3);
  });

  it('follows the limit as the algorithm moves it', () => {
    const clock = new ManualClock(0);
    const algorithm = new RecordingLimit(10);
    const limiter = new ConcurrencyLimiter({
      clock,
      algorithm,
      queue: false,
      partitions: { classes: { critical: 0.5 } },
    });
    algorithm.limit = 20;
    limiter.tryAcquire('sheddable')!.success(); // the sample moves the limit to 20
    expect(limiter.limit).toBe(20);
    take(limiter, 20, 'sheddable');
    expect(take(limiter, 20, 'critical')).toHaveLength(10);
  });
});

describe('ConcurrencyLimiter partitions (tenants)', () => {
  const tenants = { classes: { critical: 1 }, tenants: true } as const;

  it('lets one tenant borrow the whole limit while it is alone', () => {
    const { limiter } = setup(10, { partitions: tenants });
    expect(take(limiter, 12, 'critical', 'flood')).toHaveLength(10);
  });

  it('keeps a tenant its equal split while another floods', () => {
    const { limiter } = setup(10, { partitions: tenants });
    take(limiter, 10, 'critical', 'flood');
    // Two tenants active: each is guaranteed 5. The flood holds 10, so it gets nothing more; the victim gets 5.
    expect(take(limiter, 8, 'critical', 'victim')).toHaveLength(5);
    expect(limiter.tryAcquire('critical', 'flood')).toBeUndefined();
  });

  it('hands a released permit to the waiting tenant that holds the fewest', async () => {
    const { limiter } = setup(4, {
      partitions: tenants,
      queue: { maxSize: 10, targetMs: 50, intervalMs: 100 },
    });
    const flood = take(limiter, 4, 'critical', 'flood');
    const floodWaiting = settle(limiter.acquire('critical', 'flood'));
    // Two tenants: the victim's split is 2 of 4; both are admitted at once though the limit is full.
    const victim = [await limiter.acquire('critical', 'victim'), await limiter.acquire('critical', 'victim')];
    expect(limiter.inFlight).toBe(6);
    const victimWaiting = settle(limiter.acquire('critical', 'victim'));
    for (const p of flood.slice(0, 3)) p.success();
    // 3 in flight (1 flood, 2 victim): room for one; the flood holds fewer, so its waiter goes first.
    expect((await floodWaiting).value?.priority).toBe('critical');
    expect(limiter.queued).toBe(1);
    victim[0]!.success();
    // 3 in flight again: the victim's waiter takes the place.
    expect((await victimWaiting).value?.priority).toBe('critical');
    expect(limiter.queued).toBe(0);
  });

  it('makes room in a full queue by shedding the newest call of the tenant with the most waiting', async () => {
    const { limiter } = setup(2, {
      partitions: tenants,
      queue: { maxSize: 3, targetMs: 50, intervalMs: 100 },
    });
    take(limiter, 2, 'critical', 'flood');
    // The victim's split is 1 of 2 and it holds 0: it runs at once; then it waits like everyone else.
    expect(limiter.tryAcquire('critical', 'victim')).toBeDefined();
    const floods = [1, 2, 3].map(() => settle(limiter.acquire('critical', 'flood')));
    const victim = settle(limiter.acquire('critical', 'victim'));
    const evicted = await floods[2]!;
    expect(isLoadShedError(evicted.error)).toBe(true);
    // Two of the flood's calls and the victim's wait.
    expect(limiter.queued).toBe(3);
    void victim;
  });

  it('forgets tenants with nothing running or waiting (memory follows the active tenants)', () => {
    const { limiter } = setup(10, { partitions: tenants });
    for (let i = 0; i < 1000; i++) limiter.tryAcquire('critical', `t${i}`)?.success();
    // With one tenant active, its split is the whole limit again.
    expect(take(limiter, 10, 'critical', 'alone')).toHaveLength(10);
    expect(take(limiter, 10, 'critical', 'second')).toHaveLength(5);
  });
});

describe('ConcurrencyLimiter partitions (maxInFlight: a class admitted only as fast as it completes)', () => {
  const queue = { maxSize: 10, targetMs: 5, intervalMs: 100 };

  it('holds a class at its cap however much room the limit has, without holding the other classes back', () => {
    const { limiter } = setup(100, {
      partitions: { classes: { critical: 0.5 }, maxInFlight: { critical: 3 } },
    });
    expect(take(limiter, 5, 'critical')).toHaveLength(3);
    expect(take(limiter, 5, 'sheddable')).toHaveLength(5);
    expect(limiter.inFlightByPriority).toEqual({ critical: 3, default: 0, sheddable: 5 });
  });

  it('queues the calls over the cap and lets the next in when one of the class ends', async () => {
    const { limiter } = setup(100, {
      queue,
      partitions: { classes: { critical: 0.5 }, maxInFlight: { critical: 2 } },
    });
    const running = take(limiter, 2, 'critical');
    const next = settle(limiter.acquire('critical'));
    const after = settle(limiter.acquire('critical'));
    expect(limiter.queuedOf('critical')).toBe(2);
    // A read arriving while checkouts wait at their cap is not queued behind them.
    const read = await settle(limiter.acquire('sheddable'));
    expect(read.value?.priority).toBe('sheddable');
    expect(limiter.queuedOf('sheddable')).toBe(0);
    running[0]!.success();
    expect((await next).value?.priority).toBe('critical');
    expect(limiter.queuedOf('critical')).toBe(1);
    expect(limiter.inFlightByPriority.critical).toBe(2);
    running[1]!.success();
    expect((await after).value?.priority).toBe('critical');
    expect(limiter.queuedOf('critical')).toBe(0);
  });

  it('sheds a call that waited past the queue interval at its cap', async () => {
    const { clock, limiter } = setup(100, {
      queue,
      partitions: { classes: { critical: 0.5 }, maxInFlight: { critical: 1 } },
    });
    take(limiter, 1, 'critical');
    const waiting = settle(limiter.acquire('critical'));
    clock.advance(100);
    const { error } = await waiting;
    expect(isLoadShedError(error)).toBe(true);
    expect(limiter.queuedOf('critical')).toBe(0);
  });

  it('with tenants, hands a freed place of the class to the waiting tenant that holds the fewest', async () => {
    const { limiter } = setup(100, {
      queue,
      partitions: { classes: { critical: 0.5 }, tenants: true, maxInFlight: { critical: 2 } },
    });
    const flood = take(limiter, 2, 'critical', 'acme');
    const acmeWaits = settle(limiter.acquire('critical', 'acme'));
    const globexWaits = settle(limiter.acquire('critical', 'globex'));
    flood[0]!.success();
    expect((await globexWaits).value?.priority).toBe('critical');
    expect(limiter.queuedOf('critical')).toBe(1);
    flood[1]!.success();
    expect((await acmeWaits).value?.priority).toBe('critical');
  });

  it('rejects a cap that is not a whole number of at least 1, or of an unknown class', () => {
    expect(() => setup(10, { partitions: { maxInFlight: { critical: 0 } } })).toThrow(
      /partitions.maxInFlight.critical/,
    );
    expect(() => setup(10, { partitions: { maxInFlight: { critical: 2.5 } } })).toThrow(
      /partitions.maxInFlight.critical/,
    );
    expect(() => setup(10, { partitions: { maxInFlight: { urgent: 2 } as never } })).toThrow(
      /Expected `partitions.maxInFlight` to be keys among 'critical', 'default', 'sheddable'/,
    );
    expect(() => new ConcurrencyLimiter({ queue: false }).queuedOf('urgent' as never)).toThrow(/priority/);
  });
});

describe('ConcurrencyLimiter partitions (tenantLimit)', () => {
  const limited = {
    classes: { critical: 0.5, default: 0.3, sheddable: 0.2 },
    tenants: true,
    tenantLimit: { critical: 3 },
  };

  it("refuses a tenant's call beyond its limit at once, while the limit has room and other tenants are served", () => {
    const { limiter } = setup(100, { partitions: limited });
    const rejected: string[] = [];
    limiter.onEvent((event) => {
      if (event.type === 'rejected') rejected.push(`${event.reason}:${event.priority ?? ''}`);
    });
    expect(take(limiter, 10, 'critical', 'flood')).toHaveLength(3);
    expect(rejected).toEqual(Array(7).fill('rate-limited:critical'));
    // Another tenant has its own three; other classes have no per-tenant limit.
    expect(take(limiter, 4, 'critical', 'quiet')).toHaveLength(3);
    expect(take(limiter, 10, 'sheddable', 'flood')).toHaveLength(10);
  });

  it('answers acquire with a LoadShedError of detail tenant-limit, never queued, and admits again once a call ends', async () => {
    const { limiter } = setup(100, {
      partitions: limited,
      queue: { maxSize: 10, targetMs: 50, intervalMs: 100 },
    });
    const held = await Promise.all([1, 2, 3].map(() => limiter.acquire('critical', 'flood')));
    const refused = await settle(limiter.acquire('critical', 'flood'));
    expect(isLoadShedError(refused.error)).toBe(true);
    expect(refused.error).toMatchObject({
      detail: 'tenant-limit',
      reason: 'rate-limited',
      priority: 'critical',
    });
    expect(limiter.queued).toBe(0);
    await expect(limiter.execute(() => 1, 'critical', 'flood')).rejects.toMatchObject({
      detail: 'tenant-limit',
    });
    held[0]!.success();
    const again = await settle(limiter.acquire('critical', 'flood'));
    expect(again.value?.priority).toBe('critical');
  });

  it("counts a tenant's waiting calls against its limit", async () => {
    const { limiter } = setup(2, {
      partitions: limited,
      queue: { maxSize: 10, targetMs: 50, intervalMs: 100 },
    });
    take(limiter, 2, 'sheddable', 'other'); // the limit is full: calls above their split wait
    take(limiter, 1, 'critical', 'flood'); // its split of the critical reservation (1 of 2... floor(1/1))
    const waiting = [
      settle(limiter.acquire('critical', 'flood')),
      settle(limiter.acquire('critical', 'flood')),
    ];
    expect(limiter.queued).toBe(2);
    const fourth = await settle(limiter.acquire('critical', 'flood'));
    expect(fourth.error).toMatchObject({ detail: 'tenant-limit' });
    expect(limiter.queued).toBe(2);
    void waiting;
  });

  it('checks its options: only with tenants, integers of at least 1, known classes', () => {
    expect(() => new ConcurrencyLimiter({ partitions: { tenantLimit: { critical: 3 } } })).toThrow(/tenants/);
    expect(
      () => new ConcurrencyLimiter({ partitions: { tenants: true, tenantLimit: { critical: 0 } } }),
    ).toThrow(/tenantLimit\.critical/);
    expect(
      () => new ConcurrencyLimiter({ partitions: { tenants: true, tenantLimit: { critical: 1.5 } } }),
    ).toThrow(/tenantLimit\.critical/);
    expect(
      () =>
        new ConcurrencyLimiter({
          partitions: { tenants: true, tenantLimit: { urgent: 1 } as unknown as Record<Priority, number> },
        }),
    ).toThrow(/tenantLimit/);
  });
});

describe('ConcurrencyLimiter partitions (tenantQueue)', () => {
  const waiting = {
    classes: { critical: 0.5, default: 0.3, sheddable: 0.2 },
    tenants: true,
    tenantLimit: { critical: 3 },
    tenantQueue: { critical: 2 },
  };
  const queue = { maxSize: 10, targetMs: 50, intervalMs: 100 };

  /** A promise's state after pending callbacks have run. */
  async function state<T>(promise: Promise<T>): Promise<'pending' | 'resolved' | 'rejected'> {
    let seen: 'pending' | 'resolved' | 'rejected' = 'pending';
    promise.then(
      () => (seen = 'resolved'),
      () => (seen = 'rejected'),
    );
    for (let i = 0; i < 5; i++) await Promise.resolve();
    return seen;
  }

  it("lets a call over its tenant's limit wait for one of that tenant's own calls to end, not another's", async () => {
    const { limiter } = setup(100, { partitions: waiting, queue });
    const quiet = take(limiter, 3, 'critical', 'quiet');
    const other = take(limiter, 3, 'critical', 'other');
    const fourth = limiter.acquire('critical', 'quiet');
    expect(limiter.tenantQueued).toBe(1);
    expect(limiter.queued).toBe(0);
    other[0]!.success();
    expect(await state(fourth)).toBe('pending');
    quiet[0]!.success();
    const permit = await fourth;
    expect(permit.priority).toBe('critical');
    expect(limiter.tenantQueued).toBe(0);
    expect(limiter.inFlight).toBe(5); // two quiet, two other, the fourth
  });

  it('refuses at once beyond the bound, and a call whose wait runs out, with detail tenant-limit', async () => {
    const { clock, limiter } = setup(100, { partitions: waiting, queue });
    const rejected: string[] = [];
    limiter.onEvent((event) => {
      if (event.type === 'rejected') rejected.push(`${event.reason}:${event.priority ?? ''}`);
    });
    take(limiter, 3, 'critical', 'flood');
    const waiters = [
      settle(limiter.acquire('critical', 'flood')),
      settle(limiter.acquire('critical', 'flood')),
    ];
    const beyond = await settle(limiter.acquire('critical', 'flood'));
    expect(beyond.error).toMatchObject({ detail: 'tenant-limit', reason: 'rate-limited' });
    expect(rejected).toEqual(['rate-limited:critical']);
    expect(limiter.tenantQueued).toBe(2);
    clock.advance(99);
    expect(limiter.tenantQueued).toBe(2);
    clock.advance(1);
    for (const waiter of await Promise.all(waiters)) {
      expect(waiter.error).toMatchObject({ detail: 'tenant-limit', priority: 'critical' });
    }
    expect(rejected).toHaveLength(3);
    expect(limiter.tenantQueued).toBe(0);
    expect(limiter.inFlight).toBe(3);
  });

  it("never lets a flooding tenant hold more than its limit, nor take another tenant's places", async () => {
    const { limiter } = setup(100, { partitions: waiting, queue });
    const flood = take(limiter, 3, 'critical', 'flood');
    const floodWaiters = [limiter.acquire('critical', 'flood'), limiter.acquire('critical', 'flood')];
    const quiet = take(limiter, 3, 'critical', 'quiet');
    expect(quiet).toHaveLength(3);
    quiet[0]!.success();
    expect(await state(floodWaiters[0]!)).toBe('pending');
    expect(take(limiter, 1, 'critical', 'quiet')).toHaveLength(1);
    flood[0]!.success();
    flood[1]!.success();
    const [a, b] = await Promise.all(floodWaiters);
    expect([a!.priority, b!.priority]).toEqual(['critical', 'critical']);
    // The flood holds three again: its next call waits, the quiet tenant's three are untouched.
    expect(limiter.inFlight).toBe(6);
    void settle(limiter.acquire('critical', 'flood'));
    expect(limiter.tenantQueued).toBe(1);
  });

  it("admits a tenant's waiters in arrival order, and its new calls wait behind them", async () => {
    const { limiter } = setup(100, { partitions: waiting, queue });
    const held = take(limiter, 3, 'critical', 'quiet');
    const order: string[] = [];
    const first = limiter.acquire('critical', 'quiet').then(() => order.push('first'));
    const second = limiter.acquire('critical', 'quiet').then(() => order.push('second'));
    held[0]!.success();
    // A place is free, but two wait for it: a call arriving now does not pass them.
    expect(limiter.tryAcquire('critical', 'quiet')).toBeUndefined();
    held[1]!.success();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('sends a released waiter through the queue when the limit is full', async () => {
    const { clock, limiter } = setup(4, {
      partitions: { ...waiting, tenantLimit: { critical: 2 }, tenantQueue: { critical: 1 } },
      queue: { maxSize: 10, targetMs: 50, intervalMs: 100 },
    });
    const others = take(limiter, 4, 'sheddable', 'other'); // the limit is full
    take(limiter, 1, 'critical', 'someone'); // the critical reservation (2 of 4) is split: one each
    const [own] = take(limiter, 1, 'critical', 'quiet');
    const queued = limiter.acquire('critical', 'quiet'); // within its limit, over its split: the queue
    const excess = limiter.acquire('critical', 'quiet'); // over its limit: waits for its own place
    expect([limiter.queued, limiter.tenantQueued]).toEqual([1, 1]);
    clock.advance(60);
    own!.success(); // the queued call takes its place; the waiter goes on into the queue
    expect((await queued).priority).toBe('critical');
    expect([limiter.queued, limiter.tenantQueued]).toEqual([1, 0]);
    expect(await state(excess)).toBe('pending');
    for (const permit of others.slice(0, 3)) permit.success(); // 3 of the limit of 4 in flight: room
    expect((await excess).priority).toBe('critical');
    expect(limiter.queued).toBe(0);
  });

  it('lets a waiter go on when a queued call of its tenant leaves the queue without a permit', async () => {
    const { clock, limiter } = setup(2, {
      partitions: { ...waiting, tenantLimit: { critical: 2 }, tenantQueue: { critical: 1 } },
      queue: { maxSize: 10, targetMs: 5, intervalMs: 50 },
    });
    take(limiter, 2, 'sheddable', 'other'); // the limit is full
    take(limiter, 1, 'critical', 'quiet'); // the tenant's split of the critical reservation
    const queued = settle(limiter.acquire('critical', 'quiet')); // waits in the queue
    clock.advance(10);
    const excess = settle(limiter.acquire('critical', 'quiet')); // waits for the tenant's own place
    expect([limiter.queued, limiter.tenantQueued]).toEqual([1, 1]);
    clock.advance(40); // the queued call times out; the waiter goes on into the queue
    expect((await queued).error).toMatchObject({ detail: 'queue-timeout' });
    expect([limiter.queued, limiter.tenantQueued]).toEqual([1, 0]);
    clock.advance(50);
    expect((await excess).error).toMatchObject({ detail: 'queue-timeout' });
    expect(limiter.queued).toBe(0);
  });

  it('makes execute wait too', async () => {
    const { limiter } = setup(100, { partitions: waiting, queue });
    const held = take(limiter, 3, 'critical', 'quiet');
    const result = limiter.execute(() => 'done', 'critical', 'quiet');
    expect(limiter.tenantQueued).toBe(1);
    held[2]!.ignore();
    await expect(result).resolves.toBe('done');
    expect(limiter.inFlight).toBe(2);
  });

  it('checks its options: integers of at least 0, only for classes with a tenantLimit', () => {
    const partitions = { tenants: true, tenantLimit: { critical: 3 } };
    expect(
      () => new ConcurrencyLimiter({ partitions: { ...partitions, tenantQueue: { sheddable: 2 } } }),
    ).toThrow(/tenantQueue\.sheddable/);
    expect(
      () => new ConcurrencyLimiter({ partitions: { ...partitions, tenantQueue: { critical: -1 } } }),
    ).toThrow(/tenantQueue\.critical/);
    expect(
      () => new ConcurrencyLimiter({ partitions: { ...partitions, tenantQueue: { critical: 0.5 } } }),
    ).toThrow(/tenantQueue\.critical/);
    expect(
      () => new ConcurrencyLimiter({ partitions: { ...partitions, tenantQueue: { critical: 0 } } }),
    ).not.toThrow();
  });
});
