import { DateTime } from 'luxon';
import type { CalendarWindow } from '../model.js';

/**
 * One calendar period: `[start, end)` in epoch milliseconds.
 * @example
 * ```ts
 * const { start, end } = calendarPeriod(Date.now(), window);
 * ```
 */
export interface CalendarPeriod {
  readonly start: number;
  readonly end: number;
}

const PLURAL = { day: 'days', week: 'weeks', month: 'months', quarter: 'quarters', year: 'years' } as const;

/**
 * The calendar period of `window` that contains `at`: it starts at local midnight of the first day of the
 * day/week (Monday)/month/quarter/year in the window's time zone and ends where the next one starts, so a day
 * across a DST change lasts 23 or 25 hours.
 *
 * @example
 * ```ts
 * import { calendarPeriod } from '@ballast/slo';
 * calendarPeriod(Date.UTC(2026, 2, 29, 12), { kind: 'calendar', unit: 'month', duration: '1M', timeZone: 'Europe/Berlin' });
 * // { start: Date.UTC(2026, 1, 28, 23), end: Date.UTC(2026, 2, 31, 22) }
 * ```
 */
export function calendarPeriod(at: number, window: CalendarWindow): CalendarPeriod {
  const start = DateTime.fromMillis(at, { zone: window.timeZone }).startOf(window.unit);
  return { start: start.toMillis(), end: start.plus({ [PLURAL[window.unit]]: 1 }).toMillis() };
}
