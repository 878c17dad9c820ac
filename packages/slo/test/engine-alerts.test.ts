import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { defineSlo, type SloInput } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';
import type { SloAlertEvent } from '../src/engine/status.js';

const MIN = 60_000;
const OBJECTIVE = 0.999;

function setup(overrides: Partial<SloInput> = {}, evaluateEveryMs = 0) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const slo = defineSlo({
    service: 'checkout',
    name: 'availability',
    objective: OBJECTIVE,
    window: '30d',
    indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
    ...overrides,
  });
  const engine = new SloEngine({ slos: [slo], clock, evaluateEveryMs });
  const events: SloAlertEvent[] = [];
  engine.onAlert((e) => events.push(e));
  return { clock, engine, events };
}

/** Traffic for `minutes`, one batch per minute, at burn `rate`; calls `each` after every minute. */
function traffic(
  engine: SloEngine,
  clock: ManualClock,
  minutes: number,
  rate: number,
  each?: (minute: number) => void,
  perMinute = 1000,
): void {
  const bad = Math.min(perMinute, perMinute * rate * (1 - OBJECTIVE));
  for (let i = 0; i < minutes; i++) {
    engine.record('availability', perMinute - bad, bad);
    clock.advance(MIN);
    each?.(i + 1);
  }
}

function firing(engine: SloEngine): string[] {
  return engine
    .status('availability')
    .alerts.filter((a) => a.firing)
    .map((a) => a.name);
}

/** Minutes until `name` fires, or undefined. */
function detection(
  engine: SloEngine,
  clock: ManualClock,
  rate: number,
  name: string,
  maxMinutes: number,
): number | undefined {
  let found: number | undefined;
  traffic(engine, clock, maxMinutes, rate, (m) => {
    if (found === undefined && firing(engine).includes(name)) found = m;
  });
  return found;
}

describe('multi-window, multi-burn-rate alerts (Workbook defaults for 30 days)', () => {
  it('pages on nothing and tickets on nothing at a burn just under 1 for three days', () => {
    const { clock, engine, events } = setup();
    traffic(engine, clock, 3 * 24 * 60, 0.95, (m) => {
      if (m % 60 === 0) expect(firing(engine)).toEqual([]);
    });
    expect(events).toEqual([]);
  });

  // Detection time of the 14.4×/1h condition for a sudden burn b from a clean history: 1h × 14.4 / b.
  it.each([
    { rate: 1000, expected: (60 * 14.4) / 1000 },
    { rate: 100, expected: (60 * 14.4) / 100 },
    { rate: 20, expected: (60 * 14.4) / 20 },
  ])(
    'a sudden burn of $rate× pages within the Workbook detection time ($expected min)',
    ({ rate, expected }) => {
      const { clock, engine } = setup();
      traffic(engine, clock, 24 * 60, 0); // a clean day first
      const minutes = detection(engine, clock, rate, 'page-1h', 90)!;
      expect(minutes).toBeGreaterThanOrEqual(Math.floor(expected));
      expect(minutes).toBeLessThanOrEqual(Math.ceil(expected) + 1);
    },
  );

  it('a slow 2× burn opens a ticket but never pages', () => {
    const { clock, engine, events } = setup();
    traffic(engine, clock, 24 * 60, 0);
    traffic(engine, clock, 3 * 24 * 60, 2.5);
    expect(events.filter((e) => e.severity === 'page')).toEqual([]);
    expect(firing(engine)).toContain('ticket-3d');
  });

  it('emits a start and a stop event, and the page resolves within the short window after recovery', () => {
    const { clock, engine, events } = setup();
    traffic(engine, clock, 24 * 60, 0);
    traffic(engine, clock, 30, 200, () => engine.status('availability'));
    const started = events.find((e) => e.alert === 'page-1h' && e.firing)!;
    expect(started).toMatchObject({
      slo: 'availability',
      service: 'checkout',
      severity: 'page',
      threshold: 14.4,
      longWindow: '1h',
      shortWindow: '5m',
    });
    expect(started.burnRate).toBeGreaterThan(14.4);
    const recoveredAt = clock.now();
    traffic(engine, clock, 10, 0, () => engine.status('availability'));
    const stopped = events.find((e) => e.alert === 'page-1h' && !e.firing)!;
    expect(stopped.at - recoveredAt).toBeLessThanOrEqual(6 * MIN);
    expect(stopped.durationMs).toBe(stopped.at - started.at);
    expect(engine.status('availability').alerts.find((a) => a.name === 'page-1h')).toMatchObject({
      firing: false,
      since: null,
    });
  });

  it('evaluates on its own timer, so listeners hear about alerts without anyone reading a status', () => {
    const { clock, engine, events } = setup({}, MIN);
    traffic(engine, clock, 60, 0);
    traffic(engine, clock, 5, 1000);
    expect(events.map((e) => [e.alert, e.firing])).toContainEqual(['page-1h', true]);
    engine.close();
  });

  it('the low-traffic guard keeps a window with too few events from firing', () => {
    const guarded = setup({ alerting: { minEvents: 50 } });
    const open = setup();
    for (const { engine, clock } of [guarded, open]) {
      for (let i = 0; i < 10; i++) {
        engine.record('availability', 0, 1); // one failed request a minute: a burn of 1000
        clock.advance(MIN);
      }
    }
    expect(firing(guarded.engine)).toEqual([]);
    expect(firing(open.engine)).toContain('page-1h');
    const burn = guarded.engine.status('availability').burnRates.find((b) => b.window === '5m')!;
    expect(burn.rate).toBeCloseTo(1000, 6);
    expect(burn.events).toBeLessThan(50);
  });

  it('fires a custom condition only when both windows burn above its threshold', () => {
    const { clock, engine } = setup({
      alerting: {
        conditions: [{ name: 'fast', severity: 'page', burnRate: 10, longWindow: '1h', shortWindow: '5m' }],
      },
    });
    traffic(engine, clock, 60, 0);
    // A 10-minute spike at 100×: the 1h window sees 1000/60 ≈ 16.7 > 10, the 5m window sees 100.
    traffic(engine, clock, 10, 100);
    expect(firing(engine)).toEqual(['fast']);
    // Five clean minutes: the 5m window is clean, the 1h window still burns at 16.7 — resolved by the short window.
    traffic(engine, clock, 6, 0);
    const s = engine.status('availability');
    expect(s.burnRates.find((b) => b.window === '1h')!.rate).toBeGreaterThan(10);
    expect(firing(engine)).toEqual([]);
  });
});
