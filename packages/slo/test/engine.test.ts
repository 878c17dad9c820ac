import { ManualClock, setErrorHandler } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { budgetAllows, budgetPolicyState, resolveBudgetPolicy } from '../src/budget-policy.js';
import { defineSlo } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';

const MIN = 60_000;

const availability = defineSlo({
  service: 'checkout',
  name: 'availability',
  objective: 0.99,
  window: '30d',
  indicator: { bad: 'errors_total', total: 'requests_total' },
});
const latency = defineSlo({
  service: 'checkout',
  name: 'latency',
  objective: 0.99,
  window: '7d',
  indicator: { latency: { histogram: 'http_request_duration_seconds{job="checkout"}', threshold: 0.3 } },
});
const uptime = defineSlo({
  service: 'checkout',
  name: 'uptime',
  objective: 0.9,
  window: '1d',
  budgeting: { timeslices: { target: 0.95, window: '1m' } },
  indicator: { good: 'ok_total', total: 'requests_total' },
});

afterEach(() => {
  setErrorHandler(undefined);
});

describe('SloEngine', () => {
  it('starts with a full budget and no SLI', () => {
    const engine = new SloEngine({ slos: [availability], clock: new ManualClock(0), evaluateEveryMs: 0 });
    const s = engine.status('availability');
    expect(s).toMatchObject({
      slo: 'availability',
      service: 'checkout',
      objective: 0.99,
      sli: null,
      timeToExhaustionMs: null,
      policy: 'ok',
    });
    expect(s.errorBudget).toEqual({
      total: 0,
      consumed: 0,
      consumedRatio: 0,
      remainingRatio: 1,
      remainingEvents: 0,
    });
    expect(s.burnRates.map((b) => b.window)).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    expect(s.alerts.every((a) => !a.firing)).toBe(true);
  });

  it('computes SLI, budget and burn from recorded events (record, recordEvent, recordGood, recordBad)', () => {
    const clock = new ManualClock(0);
    const engine = new SloEngine({ slos: [availability], clock, evaluateEveryMs: 0 });
    clock.set(30 * 24 * 60 * MIN); // a full period after the engine started: no projection
    engine.record('availability', 970, 10);
    engine.recordEvent('availability', true);
    engine.recordEvent('availability', false);
    engine.recordGood('availability', 9);
    engine.recordBad('availability', 9);
    const s = engine.status('availability');
    expect(s.events).toEqual({ good: 980, bad: 20 });
    expect(s.sli).toBeCloseTo(0.98, 12);
    expect(s.errorBudget.total).toBeCloseTo(10, 9);
    expect(s.errorBudget.consumed).toBe(20);
    expect(s.errorBudget.consumedRatio).toBeCloseTo(2, 9);
    expect(s.errorBudget.remainingRatio).toBeCloseTo(-1, 9);
    expect(s.errorBudget.remainingEvents).toBeCloseTo(-10, 9);
    expect(s.burnRates[0]!.rate).toBeCloseTo(2, 9);
    expect(s.policy).toBe('exhausted');
    expect(s.timeToExhaustionMs).toBe(0);
  });

  it('records latency observations against the threshold', () => {
    const engine = new SloEngine({ slos: [latency], clock: new ManualClock(0), evaluateEveryMs: 0 });
    for (const seconds of [0.1, 0.3, 0.31, 2]) engine.recordLatency('latency', seconds);
    expect(engine.status('latency').events).toEqual({ good: 2, bad: 2 });
  });

  it('counts time slices for Timeslices budgeting', () => {
    const clock = new ManualClock(0);
    const engine = new SloEngine({ slos: [uptime], clock, evaluateEveryMs: 0 });
    // 60 minutes: 54 good slices (99% good), 6 bad slices (80% good).
    for (let m = 0; m < 60; m++) {
      const bad = m % 10 === 0 ? 20 : 1;
      engine.record('uptime', 100 - bad, bad);
      clock.advance(MIN);
    }
    const s = engine.status('uptime');
    expect(s.sli).toBeCloseTo(54 / 60, 12);
    // The budget is 10% of the 1,440 slices of a day; 6 are spent.
    expect(s.errorBudget.total).toBeCloseTo(144, 9);
    expect(s.errorBudget.consumed).toBe(6);
    expect(s.errorBudget.remainingRatio).toBeCloseTo(1 - 6 / 144, 12);
    expect(s.events).toEqual({ good: 6 * 80 + 54 * 99, bad: 6 * 20 + 54 });
  });

  it('never throws from record: unknown SLOs and bad counts are reported once and dropped', () => {
    const reported: string[] = [];
    setErrorHandler((error, context) => reported.push(`${context}: ${(error as Error).message}`));
    const engine = new SloEngine({ slos: [availability], clock: new ManualClock(0), evaluateEveryMs: 0 });
    engine.record('nope', 1, 0);
    engine.recordEvent('nope', true);
    engine.record('availability', -1, 0);
    engine.record('availability', NaN, 0);
    engine.record('availability', 1, Infinity);
    engine.recordLatency('availability', 1);
    expect(reported).toHaveLength(5);
    expect(reported[0]).toContain('No SLO named "nope"');
    expect(reported[1]).toContain('Expected `record(good, bad)` to be finite numbers >= 0');
    expect(engine.status('availability').events).toEqual({ good: 0, bad: 0 });
  });

  it('rejects bad options and unknown names with the one template', () => {
    expect(() => new SloEngine({ slos: [availability, availability] })).toThrow(
      'Expected `slos[1].name` to be a unique SLO name',
    );
    expect(() => new SloEngine({ slos: [availability], resolutionMs: 0 })).toThrow(
      'Expected `resolutionMs` to be an integer >= 1',
    );
    expect(() => new SloEngine({ slos: [{} as never] })).toThrow('Expected `slos[0]` to be an SLO');
    const engine = new SloEngine({ slos: [availability], evaluateEveryMs: 0 });
    expect(() => engine.status('nope')).toThrow(
      'Expected `sloName` to be one of \'availability\', got `"nope"` (string)',
    );
  });

  it('holds bounded memory per SLO: about 690 KB for 30 days at one minute', () => {
    const engine = new SloEngine({ slos: [availability, uptime], evaluateEveryMs: 0 });
    expect(engine.memoryBytes('availability')).toBe((30 * 24 * 60 + 3) * 16);
    expect(engine.memoryBytes('uptime')).toBe((24 * 60 + 3) * 32); // a day of one-minute slices
  });

  it('stamps events with a cached time, updated by a timer, when timestampResolutionMs is set', () => {
    const slo = defineSlo({
      ...{ service: 'checkout', name: 'minute', objective: 0.99, window: '1d' },
      indicator: { bad: 'errors_total', total: 'requests_total' },
      alerting: { conditions: [{ severity: 'page', burnRate: 10, longWindow: '2m', shortWindow: '1m' }] },
    });
    const lastMinute = (engine: SloEngine) =>
      engine.status('minute').burnRates.find((b) => b.window === '1m')!.events;
    const exactClock = new ManualClock(0);
    const cachedClock = new ManualClock(0);
    const exact = new SloEngine({ slos: [slo], clock: exactClock, evaluateEveryMs: 0 });
    const cached = new SloEngine({
      slos: [slo],
      clock: cachedClock,
      evaluateEveryMs: 0,
      timestampResolutionMs: 1000,
    });
    // advance() fires the timer: the cached time follows the clock to the second.
    exactClock.advance(120_500);
    cachedClock.advance(120_500);
    exact.recordEvent('minute', true);
    cached.recordEvent('minute', true);
    expect([lastMinute(exact), lastMinute(cached)]).toEqual([1, 1]);
    // set() fires no timer: the cached time stays at 120,000 and the event lands two minutes early.
    exactClock.set(240_500);
    cachedClock.set(240_500);
    exact.recordEvent('minute', true);
    cached.recordEvent('minute', true);
    expect([lastMinute(exact), lastMinute(cached)]).toEqual([1, 0]);
    expect(cachedClock.pendingTimers).toBe(1);
    cached.close();
    expect(cachedClock.pendingTimers).toBe(0);
  });

  it('stops its evaluation timer on close', () => {
    const clock = new ManualClock(0);
    const engine = new SloEngine({ slos: [availability], clock });
    expect(clock.pendingTimers).toBe(1);
    engine.close();
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('error-budget policy', () => {
  it.each([
    [1, 'ok'],
    [0.26, 'ok'],
    [0.25, 'warning'],
    [0.01, 'warning'],
    [0, 'exhausted'],
    [-3, 'exhausted'],
  ] as const)('remaining %d is %s with the defaults', (remaining, state) => {
    expect(budgetPolicyState(remaining, resolveBudgetPolicy())).toBe(state);
  });

  it('takes custom thresholds in the engine', () => {
    const clock = new ManualClock(0);
    const engine = new SloEngine({
      slos: [availability],
      clock,
      evaluateEveryMs: 0,
      budgetPolicy: { warning: 0.9, exhausted: 0.5 },
    });
    clock.set(30 * 24 * 60 * MIN);
    engine.record('availability', 9_980, 20); // 20% of a 100-event budget spent
    expect(engine.policy('availability')).toBe('warning');
    engine.record('availability', 0, 40);
    expect(engine.policy('availability')).toBe('exhausted');
  });

  it('gates work on the policy', () => {
    expect(budgetAllows('ok', 'ok')).toBe(true);
    expect(budgetAllows('warning', 'ok')).toBe(false);
    expect(budgetAllows('warning', 'warning')).toBe(true);
    expect(budgetAllows('exhausted', 'warning')).toBe(false);
  });

  it('rejects inconsistent thresholds', () => {
    expect(() => resolveBudgetPolicy({ warning: 0.1, exhausted: 0.2 })).toThrow(
      'Expected `budgetPolicy.exhausted` to be a number <= budgetPolicy.warning (0.1)',
    );
    expect(() => resolveBudgetPolicy({ warning: 2 })).toThrow('Expected `budgetPolicy.warning`');
  });
});

describe('limits', () => {
  it('refuses a bucket count that would not fit in memory', () => {
    const tiny = defineSlo({
      service: 'checkout',
      name: 'tiny-slices',
      objective: 0.99,
      window: '30d',
      budgeting: { timeslices: { target: 0.9, window: '1s' } },
      indicator: { good: 'ok_total', total: 'requests_total' },
    });
    expect(() => new SloEngine({ slos: [tiny], evaluateEveryMs: 0 })).toThrow(
      'Expected `tiny-slices: timesliceWindow` to be at most 1,000,000 buckets per SLO',
    );
  });

  it('uses one-minute buckets for calendar months and coarser ones for longer periods', () => {
    const month = defineSlo({
      ...base,
      name: 'month',
      window: { calendar: 'month', timeZone: 'Europe/Berlin' },
    });
    const year = defineSlo({ ...base, name: 'year', window: { calendar: 'year', timeZone: 'UTC' } });
    const engine = new SloEngine({ slos: [month, year], evaluateEveryMs: 0 });
    expect(engine.memoryBytes('month')).toBe((Math.ceil((31 * 24 + 1) * 60) + 3) * 16);
    // 365 days / 43,200 buckets is 12.2 minutes: 13-minute buckets.
    expect(engine.memoryBytes('year')).toBe((Math.ceil(((366 * 24 + 1) * 60) / 13) + 3) * 16);
  });
});

const base = {
  service: 'checkout',
  objective: 0.99,
  indicator: { good: 'ok_total', total: 'requests_total' },
} as const;
