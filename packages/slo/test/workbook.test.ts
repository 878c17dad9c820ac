import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { defineSlo } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function setup(objective = 0.999) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const slo = defineSlo({
    service: 'checkout',
    name: 'availability',
    objective,
    window: '30d',
    indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
  });
  const engine = new SloEngine({ slos: [slo], clock, evaluateEveryMs: 0 });
  return { clock, engine };
}

/** Drives `minutes` minutes of traffic at `perMinute` events with an error ratio of burn × (1 - objective). */
function burn(
  engine: SloEngine,
  clock: ManualClock,
  minutes: number,
  rate: number,
  perMinute = 100_000,
  objective = 0.999,
): void {
  const bad = Math.min(perMinute, perMinute * rate * (1 - objective));
  for (let i = 0; i < minutes; i++) {
    engine.record('availability', perMinute - bad, bad);
    clock.advance(MIN);
  }
}

describe('the SRE Workbook numbers (30-day window, 99.9%)', () => {
  it.each([
    { rate: 1, minutes: 30 * 24 * 60, consumed: 1 },
    { rate: 14.4, minutes: 60, consumed: 0.02 },
    { rate: 6, minutes: 6 * 60, consumed: 0.05 },
    { rate: 3, minutes: 24 * 60, consumed: 0.1 },
    { rate: 1, minutes: 3 * 24 * 60, consumed: 0.1 },
    { rate: 1000, minutes: 43, consumed: 43 / 43.2 },
  ])('burn rate $rate for $minutes minutes spends $consumed of the budget', ({ rate, minutes, consumed }) => {
    const { clock, engine } = setup();
    burn(engine, clock, minutes, rate);
    const s = engine.status('availability');
    expect(s.errorBudget.consumedRatio).toBeCloseTo(consumed, 3);
    expect(s.errorBudget.remainingRatio).toBeCloseTo(1 - consumed, 3);
  });

  it.each([
    { rate: 1, expectedMs: 30 * DAY },
    { rate: 14.4, expectedMs: (30 * DAY) / 14.4 },
    { rate: 1000, expectedMs: 43.2 * MIN },
  ])('a full budget burning at $rate lasts $expectedMs ms', ({ rate, expectedMs }) => {
    const { clock, engine } = setup();
    burn(engine, clock, 1, rate);
    const s = engine.status('availability');
    // What is left, at the current rate: remaining × period / rate.
    expect(s.timeToExhaustionMs).toBeCloseTo((s.errorBudget.remainingRatio * 30 * DAY) / rate, -3);
    // With the minute's spend added back, the whole budget lasts period / rate.
    expect(Math.abs(s.timeToExhaustionMs! + MIN - expectedMs)).toBeLessThan(1000);
  });
});
