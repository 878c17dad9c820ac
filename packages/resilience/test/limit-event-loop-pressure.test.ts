import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import {
  ConcurrencyLimiter,
  EventLoopPressure,
  isLoadShedError,
  type EventLoopSample,
  type PolicyEvent,
} from '../src/index.js';

function scripted(samples: EventLoopSample[]) {
  let i = 0;
  return () => samples[Math.min(i++, samples.length - 1)]!;
}

const BUSY = { utilization: 0.99, delayMs: 80 };
const CALM = { utilization: 0.3, delayMs: 2 };
const STALLED = { utilization: 1, delayMs: 900 };

describe('EventLoopPressure', () => {
  it('admits everything while the loop is calm', () => {
    const pressure = new EventLoopPressure({ sampler: () => CALM, random: () => 0 });
    for (let i = 0; i < 10; i++) pressure.sample();
    expect(pressure.pressure).toBe(0);
    expect(['sheddable', 'default', 'critical'].map((p) => pressure.admits(p as 'default'))).toEqual([
      true,
      true,
      true,
    ]);
  });

  it.each([
    // samples while saturated, then what each class sees (random = 0.5)
    [1, { sheddable: true, default: true, critical: true }], // pressure 0.25: sheddable shed with p=0.25
    [3, { sheddable: false, default: true, critical: true }], // 0.75: sheddable shed with p=0.75
    [4, { sheddable: false, default: true, critical: true }], // 1.0: every sheddable call
    [7, { sheddable: false, default: false, critical: true }], // 1.75: default with p=0.75
    [12, { sheddable: false, default: false, critical: true }], // 3: critical only while the delay is extreme
  ])('after %i saturated samples sheds lower classes first: %j', (n, expected) => {
    const pressure = new EventLoopPressure({ sampler: () => BUSY, random: () => 0.5, step: 0.25 });
    for (let i = 0; i < n; i++) pressure.sample();
    expect({
      sheddable: pressure.admits('sheddable'),
      default: pressure.admits('default'),
      critical: pressure.admits('critical'),
    }).toEqual(expected);
  });

  it('with an onset, a short saturation sheds nothing and a sustained one sheds as without it, one onset later', () => {
    const onset = new EventLoopPressure({ sampler: () => BUSY, random: () => 0.5, onset: 1 });
    const plain = new EventLoopPressure({ sampler: () => BUSY, random: () => 0.5 });
    const classes = (p: EventLoopPressure) =>
      ['sheddable', 'default', 'critical'].map((c) => p.admits(c as 'default'));
    for (let i = 0; i < 3; i++) onset.sample(); // a burst of three saturated samples: pressure 0.75 of the onset's 1
    expect(onset.underPressure).toBe(true);
    expect(classes(onset)).toEqual([true, true, true]);
    for (let i = 0; i < 4; i++) onset.sample(); // 1.75
    for (let i = 0; i < 3; i++) plain.sample(); // 0.75
    expect(classes(onset)).toEqual(classes(plain));
    expect(classes(onset)).toEqual([false, true, true]);
    for (let i = 0; i < 20; i++) onset.sample();
    expect(onset.pressure).toBe(4); // capped at 3 + onset
    expect(classes(onset)).toEqual([false, false, true]); // critical: the delay (80 ms) is below criticalDelayMs
  });

  it('with warmupDecisions, admits that many decisions whatever the pressure, then sheds at the pressure built meanwhile', () => {
    const warming = new EventLoopPressure({ sampler: () => STALLED, random: () => 0.5, warmupDecisions: 5 });
    for (let i = 0; i < 12; i++) warming.sample();
    expect(warming.pressure).toBe(3);
    expect(warming.underPressure).toBe(true); // the loop is reported as it is
    const answers = Array.from({ length: 5 }, (_, i) =>
      warming.admits(i % 2 === 0 ? 'sheddable' : 'critical'),
    );
    expect(answers).toEqual([true, true, true, true, true]);
    // Armed: every class is shed at full pressure with a stalled loop, as without a warm-up.
    expect(['sheddable', 'default', 'critical'].map((p) => warming.admits(p as 'default'))).toEqual([
      false,
      false,
      false,
    ]);
  });

  it('with minCpu, a late loop whose process barely ran (starved by its neighbours) builds no pressure', () => {
    const starved = { utilization: 1, delayMs: 300, cpu: 0.2 };
    const overloaded = { utilization: 1, delayMs: 300, cpu: 0.97 };
    const pressure = new EventLoopPressure({
      sampler: scripted([
        ...Array<EventLoopSample>(8).fill(starved),
        ...Array<EventLoopSample>(8).fill(overloaded),
      ]),
      random: () => 0.5,
      minCpu: 0.5,
    });
    for (let i = 0; i < 8; i++) pressure.sample();
    expect(pressure.pressure).toBe(0);
    expect(pressure.admits('sheddable')).toBe(true);
    for (let i = 0; i < 8; i++) pressure.sample();
    expect(pressure.pressure).toBe(2);
    expect(pressure.admits('sheddable')).toBe(false);
    // A sampler that does not report CPU is judged on utilization and delay alone.
    const unknown = new EventLoopPressure({ sampler: () => BUSY, minCpu: 0.5 });
    unknown.sample();
    expect(unknown.pressure).toBe(0.25);
    expect(() => new EventLoopPressure({ minCpu: -0.1 })).toThrow(/minCpu/);
  });

  it("reads the process's own CPU: a loop busy with its own work counts, unless minCpu asks for more than it used", () => {
    // The real sampler: a synchronous spin keeps the loop busy (utilization ~1) and this process on a CPU.
    const counts = new EventLoopPressure({ minCpu: 0.05 });
    const asksTooMuch = new EventLoopPressure({ minCpu: 1024 });
    counts.sample();
    asksTooMuch.sample();
    const until = performance.now() + 60;
    while (performance.now() < until); // spin
    counts.sample();
    asksTooMuch.sample();
    counts.close();
    asksTooMuch.close();
    expect(counts.pressure).toBeGreaterThan(0);
    expect(asksTooMuch.pressure).toBe(0);
  });

  it('rejects a warmupDecisions that is not a whole number of at least 0', () => {
    expect(() => new EventLoopPressure({ warmupDecisions: -1 })).toThrow(/warmupDecisions/);
    expect(() => new EventLoopPressure({ warmupDecisions: 2.5 })).toThrow(/warmupDecisions/);
  });

  it('rejects an onset that is not a number from 0 to 10', () => {
    expect(() => new EventLoopPressure({ onset: -1 })).toThrow(/onset/);
    expect(() => new EventLoopPressure({ onset: Number.NaN })).toThrow(/onset/);
  });

  it('sheds critical work only while the delay exceeds criticalDelayMs, and recovers when the loop calms', () => {
    const pressure = new EventLoopPressure({
      sampler: scripted([
        ...Array<EventLoopSample>(12).fill(STALLED),
        ...Array<EventLoopSample>(12).fill(CALM),
      ]),
      random: () => 0.5,
    });
    for (let i = 0; i < 12; i++) pressure.sample();
    expect(pressure.pressure).toBe(3);
    expect(pressure.admits('critical')).toBe(false);
    for (let i = 0; i < 12; i++) pressure.sample();
    expect(pressure.pressure).toBe(0);
    expect(pressure.admits('sheddable')).toBe(true);
  });

  it('samples on its clock once admissions start, and stops on close', () => {
    const clock = new ManualClock();
    let samples = 0;
    const pressure = new EventLoopPressure({
      clock,
      sampleIntervalMs: 100,
      sampler: () => (samples++, BUSY),
    });
    clock.advance(1000);
    expect(samples).toBe(0);
    pressure.admits('default');
    clock.advance(1000);
    expect(samples).toBe(10);
    pressure.close();
    clock.advance(1000);
    expect(samples).toBe(10);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reads the real event loop by default', () => {
    const pressure = new EventLoopPressure();
    pressure.sample();
    expect(pressure.pressure).toBeGreaterThanOrEqual(0);
    pressure.close();
  });

  it('rejects bad options with the option template', () => {
    expect(() => new EventLoopPressure({ targetUtilization: 2 })).toThrow(
      'Expected `targetUtilization` to be a finite number > 0 <= 1, got `2` (number)',
    );
    expect(() => new EventLoopPressure({ maxDelayMs: 100, criticalDelayMs: 10 })).toThrow('criticalDelayMs');
  });
});

describe('ConcurrencyLimiter with an admission signal', () => {
  it('sheds refused priorities before the limit, with the usual error and event', async () => {
    const pressure = new EventLoopPressure({ sampler: () => BUSY, random: () => 0.5 });
    for (let i = 0; i < 5; i++) pressure.sample(); // 1.25: sheddable always, default with p=0.25
    const limiter = new ConcurrencyLimiter({ name: 'ingress', admission: pressure });
    const events: PolicyEvent[] = [];
    limiter.onEvent((e) => events.push(e));
    const shed = await limiter.acquire('sheddable').catch((e: unknown) => e);
    expect(isLoadShedError(shed) && shed.detail).toBe('pressure');
    expect(limiter.tryAcquire('sheddable')).toBeUndefined();
    await expect(limiter.execute(() => 1, 'sheddable')).rejects.toMatchObject({ detail: 'pressure' });
    const permit = await limiter.acquire('default');
    permit.success();
    await expect(limiter.execute(() => 2, 'critical')).resolves.toBe(2);
    expect(
      events.filter((e) => e.type === 'rejected').map((e) => e.type === 'rejected' && e.priority),
    ).toEqual(['sheddable', 'sheddable', 'sheddable']);
  });

  it('admits when the signal throws, and reports it', async () => {
    const limiter = new ConcurrencyLimiter({
      admission: {
        admits: () => {
          throw new Error('broken signal');
        },
      },
    });
    await expect(limiter.execute(() => 'ran')).resolves.toBe('ran');
  });

  it('rejects an admission that is not a signal', () => {
    expect(() => new ConcurrencyLimiter({ admission: {} as never })).toThrow(
      'Expected `admission` to be an AdmissionSignal',
    );
  });
});
