import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { defineSlo, type WindowInput } from '../src/define.js';
import { calendarPeriod } from '../src/engine/calendar.js';
import { SloEngine } from '../src/engine/engine.js';
import type { CalendarWindow } from '../src/model.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function calendar(unit: CalendarWindow['unit'], timeZone: string): CalendarWindow {
  const duration = { day: '1d', week: '1w', month: '1M', quarter: '1Q', year: '1Y' }[unit];
  return { kind: 'calendar', unit, duration, timeZone };
}

describe('calendar periods', () => {
  it.each([
    // Berlin is UTC+1 in winter, UTC+2 in summer (from 29 March 2026, 02:00 local).
    {
      name: 'a Berlin month in winter',
      at: '2026-01-15T12:00:00Z',
      w: calendar('month', 'Europe/Berlin'),
      start: '2025-12-31T23:00:00Z',
      end: '2026-01-31T23:00:00Z',
    },
    {
      name: 'the Berlin month with the spring DST change (31 days less one hour)',
      at: '2026-03-29T12:00:00Z',
      w: calendar('month', 'Europe/Berlin'),
      start: '2026-02-28T23:00:00Z',
      end: '2026-03-31T22:00:00Z',
    },
    {
      name: 'the Berlin day of the spring change (23 hours)',
      at: '2026-03-29T12:00:00Z',
      w: calendar('day', 'Europe/Berlin'),
      start: '2026-03-28T23:00:00Z',
      end: '2026-03-29T22:00:00Z',
    },
    {
      name: 'the Berlin day of the autumn change (25 hours)',
      at: '2026-10-25T12:00:00Z',
      w: calendar('day', 'Europe/Berlin'),
      start: '2026-10-24T22:00:00Z',
      end: '2026-10-25T23:00:00Z',
    },
    // New York is UTC-4 in summer, UTC-5 in winter (from 1 November 2026, 02:00 local); weeks start on Monday.
    {
      name: 'the New York week with the autumn change (7 days and one hour)',
      at: '2026-10-30T12:00:00Z',
      w: calendar('week', 'America/New_York'),
      start: '2026-10-26T04:00:00Z',
      end: '2026-11-02T05:00:00Z',
    },
    {
      name: 'a New York month (November, 30 days and one hour)',
      at: '2026-11-10T00:00:00Z',
      w: calendar('month', 'America/New_York'),
      start: '2026-11-01T04:00:00Z',
      end: '2026-12-01T05:00:00Z',
    },
    {
      name: 'a New York week just before midnight Sunday local (already Monday in UTC)',
      at: '2026-11-09T03:00:00Z',
      w: calendar('week', 'America/New_York'),
      start: '2026-11-02T05:00:00Z',
      end: '2026-11-09T05:00:00Z',
    },
    {
      name: 'a UTC quarter',
      at: '2026-05-05T00:00:00Z',
      w: calendar('quarter', 'UTC'),
      start: '2026-04-01T00:00:00Z',
      end: '2026-07-01T00:00:00Z',
    },
    {
      name: 'a UTC leap year',
      at: '2028-02-29T00:00:00Z',
      w: calendar('year', 'UTC'),
      start: '2028-01-01T00:00:00Z',
      end: '2029-01-01T00:00:00Z',
    },
  ])('$name', ({ at, w, start, end }) => {
    expect(calendarPeriod(Date.parse(at), w)).toEqual({ start: Date.parse(start), end: Date.parse(end) });
  });
});

function engineFor(window: WindowInput, startIso: string) {
  const clock = new ManualClock(Date.parse(startIso));
  const slo = defineSlo({
    service: 'api',
    name: 'api',
    objective: 0.99,
    window,
    indicator: { good: 'ok_total', total: 'all_total' },
  });
  return { clock, engine: new SloEngine({ slos: [slo], clock, evaluateEveryMs: 0 }) };
}

describe('calendar windows in the engine', () => {
  it('resets the budget at midnight of the 1st in the SLO time zone, not in UTC', () => {
    const berlin = engineFor({ calendar: 'month', timeZone: 'Europe/Berlin' }, '2026-01-25T00:00:00Z');
    const utc = engineFor({ calendar: 'month', timeZone: 'UTC' }, '2026-01-25T00:00:00Z');
    for (const { engine, clock } of [berlin, utc]) {
      clock.set(Date.parse('2026-01-31T21:00:00Z')); // 22:00 on 31 January in Berlin
      engine.record('api', 90, 10);
      clock.set(Date.parse('2026-01-31T23:30:00Z')); // 00:30 on 1 February in Berlin, still January in UTC
      engine.record('api', 100, 0);
    }
    const b = berlin.engine.status('api');
    expect(b.period).toEqual({
      start: Date.parse('2026-01-31T23:00:00Z'),
      end: Date.parse('2026-02-28T23:00:00Z'),
      window: '1M Europe/Berlin',
    });
    expect(b.events).toEqual({ good: 100, bad: 0 });
    expect(b.errorBudget.remainingRatio).toBe(1);
    const u = utc.engine.status('api');
    expect(u.period.start).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(u.events).toEqual({ good: 190, bad: 10 });
    expect(u.errorBudget.remainingRatio).toBeLessThan(1);
  });

  it('sizes the budget to the whole period, projecting the traffic seen so far', () => {
    const { engine, clock } = engineFor(
      { calendar: 'week', timeZone: 'America/New_York' },
      '2026-10-26T04:00:00Z',
    );
    // Monday 00:00 New York of the week with the autumn DST change: 7 days and 1 hour long.
    const length = 7 * DAY + HOUR;
    for (let h = 0; h < 24; h++) {
      engine.record('api', 1000, 0);
      clock.advance(HOUR);
    }
    engine.record('api', 0, 10);
    const s = engine.status('api');
    // 24,000 events in the first 24h project to 24,000 × (169h / 24h); the budget is 1% of that.
    expect(s.errorBudget.total).toBeCloseTo((0.01 * 24_010 * length) / DAY, 6);
    expect(s.errorBudget.consumed).toBe(10);
  });

  it('reports no time to exhaustion when the period ends before the budget does', () => {
    const { engine, clock } = engineFor({ calendar: 'day', timeZone: 'UTC' }, '2026-06-01T00:00:00Z');
    clock.set(Date.parse('2026-06-01T23:00:00Z'));
    engine.record('api', 995, 5); // a burn of 0.5: the budget would last two days
    clock.advance(60_000);
    expect(engine.status('api').timeToExhaustionMs).toBeNull();
    engine.record('api', 0, 1000); // now it is gone
    expect(engine.status('api').timeToExhaustionMs).toBe(0);
    expect(engine.status('api').policy).toBe('exhausted');
  });
});
