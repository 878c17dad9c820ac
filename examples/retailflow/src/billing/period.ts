import { DateTime, IANAZone } from 'luxon';
import { invalidOption } from '@ballast/core';

/** One billing period: a calendar month in the tenant's time zone. */
export interface BillingPeriod {
  /** `YYYY-MM`. */
  readonly id: string;
  readonly timeZone: string;
  /** First instant of the month, epoch ms (inclusive). */
  readonly start: number;
  /** First instant of the next month, epoch ms (exclusive): when the period's quotas reset. */
  readonly end: number;
}

const PERIOD_ID = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Throws a clear error unless `timeZone` is an IANA zone name. */
export function checkTimeZone(timeZone: string): string {
  if (!IANAZone.isValidZone(timeZone)) {
    throw invalidOption('timeZone', 'an IANA time zone such as `Europe/Paris` or `UTC`', timeZone);
  }
  return timeZone;
}

function monthOf(start: DateTime, timeZone: string): BillingPeriod {
  return {
    id: start.toFormat('yyyy-MM'),
    timeZone,
    start: start.toMillis(),
    end: start.plus({ months: 1 }).toMillis(),
  };
}

/**
 * The calendar month containing `at` in `timeZone` (a tenant in Tokyo starts its month nine hours before one in
 * UTC; daylight saving changes inside a month do not move its bounds).
 *
 * @example
 * ```ts
 * periodAt(Date.UTC(2026, 11, 31, 23, 30), 'Europe/Paris').id; // '2027-01'
 * ```
 */
export function periodAt(at: number, timeZone: string): BillingPeriod {
  checkTimeZone(timeZone);
  return monthOf(DateTime.fromMillis(at, { zone: timeZone }).startOf('month'), timeZone);
}

/**
 * The period named `id` (`YYYY-MM`) in `timeZone`.
 *
 * @example
 * ```ts
 * parsePeriod('2026-02', 'UTC').end; // Date.UTC(2026, 2, 1)
 * ```
 */
export function parsePeriod(id: string, timeZone: string): BillingPeriod {
  const match = PERIOD_ID.exec(id);
  if (!match) throw invalidOption('period', 'a month as `YYYY-MM`', id);
  checkTimeZone(timeZone);
  const start = DateTime.fromObject(
    { year: Number(match[1]), month: Number(match[2]), day: 1 },
    { zone: timeZone },
  );
  return monthOf(start, timeZone);
}
