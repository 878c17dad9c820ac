import { describe, expect, it } from 'vitest';
import { ManualClock, setErrorHandler } from '@ballast/core';
import { BulkheadPolicy, ConcurrencyLimiter, SaturationSignal, isLoadShedError } from '../src/index.js';

const admitted = (signal: SaturationSignal) => ({
  sheddable: signal.admits('sheddable'),
  default: signal.admits('default'),
  critical: signal.admits('critical'),
});

describe('SaturationSignal', () => {
  it.each([
    [0, { sheddable: true, default: true, critical: true }],
    [0.1, { sheddable: false, default: true, critical: true }],
    [0.5, { sheddable: false, default: true, critical: true }],
    [0.75, { sheddable: false, default: false, critical: true }],
    [0.99, { sheddable: false, default: false, critical: true }],
    [1, { sheddable: false, default: false, critical: false }],
  ])('at saturation %d sheds lower classes first (default thresholds): %j', (level, expected) => {
    expect(admitted(new SaturationSignal({ saturation: () => level }))).toEqual(expected);
  });

  it('takes its thresholds per class', () => {
    let level = 0.3;
    const signal = new SaturationSignal({
      saturation: () => level,
      thresholds: { sheddable: 0.25, default: 0.9 },
    });
    expect(admitted(signal)).toEqual({ sheddable: false, default: true, critical: true });
    level = 0.2;
    expect(admitted(signal)).toEqual({ sheddable: true, default: true, critical: true });
    level = 0.95;
    expect(admitted(signal)).toEqual({ sheddable: false, default: false, critical: true });
  });

  it('leaves critical work to the resource when told to', () => {
    const signal = new SaturationSignal({ saturation: () => 1, shedCriticalWhenFull: false });
    expect(admitted(signal)).toEqual({ sheddable: false, default: false, critical: true });
    expect(() => new SaturationSignal({ saturation: () => 1, shedCriticalWhenFull: 'yes' as never })).toThrow(
      /shedCriticalWhenFull/,
    );
  });

  it('sheds lower classes only while its condition holds (critical work waits on a slow dependency, not on us)', () => {
    let busy = false;
    const signal = new SaturationSignal({ saturation: () => 0.75, onlyWhile: () => busy });
    expect(admitted(signal)).toEqual({ sheddable: true, default: true, critical: true });
    busy = true;
    expect(admitted(signal)).toEqual({ sheddable: false, default: false, critical: true });
    const full = new SaturationSignal({ saturation: () => 1, onlyWhile: () => false });
    expect(full.admits('critical')).toBe(false); // the resource would refuse it anyway
    expect(full.admits('sheddable')).toBe(true);
    const previous = setErrorHandler(() => undefined);
    try {
      const throwing = new SaturationSignal({
        saturation: () => 0.75,
        onlyWhile: () => {
          throw new Error('no reading');
        },
      });
      expect(throwing.admits('sheddable')).toBe(false);
    } finally {
      setErrorHandler(previous);
    }
    expect(() => new SaturationSignal({ saturation: () => 0, onlyWhile: true as never })).toThrow(
      /onlyWhile/,
    );
  });

  it('admits everything when the source throws or answers no number, and reports the failure', () => {
    const reported: string[] = [];
    const previous = setErrorHandler((_error, context) => reported.push(context));
    try {
      const broken = new SaturationSignal({
        saturation: () => {
          throw new Error('gauge gone');
        },
      });
      expect(admitted(broken)).toEqual({ sheddable: true, default: true, critical: true });
      expect(reported).toContain('SaturationSignal: saturation() threw');
      const notANumber = new SaturationSignal({ saturation: () => 'full' as unknown as number });
      expect(notANumber.admits('sheddable')).toBe(true);
    } finally {
      setErrorHandler(previous);
    }
  });

  it('with smoothingMs, sheds the lower classes only while saturation lasts, not through bursts', () => {
    const clock = new ManualClock(0);
    let level = 0;
    const signal = new SaturationSignal({
      saturation: () => level,
      smoothingMs: 250,
      thresholds: { sheddable: 0.5, default: 0.8 },
      clock,
    });
    // A service at its capacity: the queue is occupied for 10 ms of every 50, admissions every millisecond.
    const admittedSheddable: boolean[] = [];
    for (let ms = 0; ms < 2000; ms++) {
      level = ms % 50 < 10 ? 1 : 0;
      admittedSheddable.push(signal.admits('sheddable'));
      clock.advance(1);
    }
    expect(admittedSheddable.every(Boolean)).toBe(true);
    // Without the average, the same bursts shed a fifth of the reads.
    const instant = new SaturationSignal({ saturation: () => level, thresholds: { sheddable: 0.5 } });
    let shed = 0;
    for (let ms = 0; ms < 2000; ms++) {
      level = ms % 50 < 10 ? 1 : 0;
      if (!instant.admits('sheddable')) shed++;
    }
    expect(shed).toBe(400);

    // Overload: the queue stays occupied (empty for 5 ms of every 50). Sheddable work is shed within about
    // smoothingMs · ln 2 of it starting (the average crossing 0.5), default work once it passes 0.8.
    let firstShed = Number.NaN;
    let firstDefaultShed = Number.NaN;
    for (let ms = 0; ms < 1000; ms++) {
      level = ms % 50 < 5 ? 0 : 1;
      if (!signal.admits('sheddable') && Number.isNaN(firstShed)) firstShed = ms;
      if (!signal.admits('default') && Number.isNaN(firstDefaultShed)) firstDefaultShed = ms;
      clock.advance(1);
    }
    expect(firstShed).toBeGreaterThan(100);
    expect(firstShed).toBeLessThan(250);
    expect(firstDefaultShed).toBeGreaterThan(firstShed);
    expect(firstDefaultShed).toBeLessThan(700);
    expect(signal.admits('sheddable')).toBe(false);

    // Critical work is judged by the value now: refused the moment the resource is full, admitted the moment it
    // is not, whatever the average.
    level = 1;
    expect(signal.admits('critical')).toBe(false);
    level = 0.9;
    expect(signal.admits('critical')).toBe(true);

    // Once the overload ends the average decays and reads come back within about a time constant.
    level = 0;
    let backAt = Number.NaN;
    for (let ms = 0; ms < 1000 && Number.isNaN(backAt); ms++) {
      clock.advance(1);
      if (signal.admits('sheddable')) backAt = ms;
    }
    expect(backAt).toBeGreaterThan(50);
    expect(backAt).toBeLessThan(400);
  });

  it('with smoothingMs, averages over time, not over calls: a burst of admissions does not move it further', () => {
    const clock = new ManualClock(0);
    let level = 1;
    const signal = new SaturationSignal({ saturation: () => level, smoothingMs: 100, clock });
    signal.admits('sheddable'); // the first reading: the average starts at 0
    for (let i = 0; i < 10_000; i++) expect(signal.admits('sheddable')).toBe(true); // no time passed
    clock.advance(10);
    // 1 - e^(-0.1) ≈ 0.095 of the way to 1: above the default threshold of 0 for sheddable work.
    expect(signal.admits('sheddable')).toBe(false);
    expect(signal.admits('default')).toBe(true);
    level = 0;
    clock.advance(1000);
    signal.admits('sheddable'); // folds in the 1000 ms at 1 that just ended
    clock.advance(1000);
    expect(signal.admits('default')).toBe(true);
    // e^-10 of it is left: an average is never exactly 0, hence thresholds above 0 with smoothingMs.
    expect(signal.admits('sheddable')).toBe(false);
  });

  it('rejects bad options with the option named', () => {
    expect(() => new SaturationSignal({} as never)).toThrow(/saturation/);
    expect(() => new SaturationSignal(undefined as never)).toThrow(/saturation/);
    expect(() => new SaturationSignal({ saturation: () => 0, thresholds: { sheddable: 2 } })).toThrow(
      /thresholds\.sheddable/,
    );
    expect(
      () => new SaturationSignal({ saturation: () => 0, thresholds: { sheddable: 0.6, default: 0.5 } }),
    ).toThrow(/thresholds\.default/);
    expect(() => new SaturationSignal({ saturation: () => 0, smoothingMs: -1 })).toThrow(/smoothingMs/);
    expect(() => new SaturationSignal({ saturation: () => 0, smoothingMs: Number.NaN })).toThrow(
      /smoothingMs/,
    );
  });

  it('screens at the door: what the signal refuses is counted as shed, what it admits is not, and no permit is taken', () => {
    let level = 0.2;
    const limiter = new ConcurrencyLimiter({ admission: new SaturationSignal({ saturation: () => level }) });
    const rejected: { reason: string; priority?: string | undefined }[] = [];
    limiter.onEvent((event) => {
      if (event.type === 'rejected') rejected.push({ reason: event.reason, priority: event.priority });
    });
    // admits() only asks; screen() asks and counts a refusal like acquire() would.
    expect(limiter.admits('sheddable')).toBe(false);
    expect(rejected).toEqual([]);
    expect(limiter.screen('sheddable')).toBe(false);
    expect(limiter.screen('critical')).toBe(true);
    level = 1;
    expect(limiter.screen('critical')).toBe(false);
    expect(rejected).toEqual([
      { reason: 'shed', priority: 'sheddable' },
      { reason: 'shed', priority: 'critical' },
    ]);
    expect(limiter.inFlight).toBe(0);
    expect(() => limiter.screen('urgent' as never)).toThrow(/priority/);
  });

  it('sheds catalog-like work at the limiter while a bulkhead critical work needs has a queue', async () => {
    const clock = new ManualClock();
    const bulkhead = new BulkheadPolicy({ name: 'db', limit: 1, maxQueued: 4, queueTimeoutMs: 1_000, clock });
    const limiter = new ConcurrencyLimiter({
      clock,
      admission: new SaturationSignal({ saturation: () => bulkhead.queued / bulkhead.maxQueued }),
    });
    const gates: (() => void)[] = [];
    const hold = () => bulkhead.execute(() => new Promise<void>((resolve) => gates.push(resolve)));
    const running = [limiter.execute(hold, 'critical'), limiter.execute(hold, 'critical')];
    await clock.advanceAsync(0);
    expect(bulkhead.queued).toBe(1);
    const shed = await limiter.execute(() => 'read', 'sheddable').catch((e: unknown) => e);
    expect(isLoadShedError(shed) && shed.detail).toBe('pressure');
    await expect(limiter.execute(() => 'critical work', 'critical')).resolves.toBe('critical work');
    // The queue drains: sheddable work is admitted again.
    gates.shift()!();
    await clock.advanceAsync(0);
    expect(bulkhead.queued).toBe(0);
    await expect(limiter.execute(() => 'read', 'sheddable')).resolves.toBe('read');
    gates.shift()!();
    await Promise.all(running);
  });
});
