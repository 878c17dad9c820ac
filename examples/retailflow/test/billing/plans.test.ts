import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { parsePeriod, periodAt } from '../../src/billing/period.js';
import { overageCents, PLANS, planCatalog } from '../../src/billing/plans.js';
import { QuotaEnforcer, quotaProblem } from '../../src/billing/quota.js';
import { MemoryQuotaStore } from '../../src/billing/quota-store.js';

describe('billing periods', () => {
  it.each([
    // [instant, zone, period, start, end]
    [Date.UTC(2026, 11, 31, 23, 30), 'UTC', '2026-12', Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)],
    [
      Date.UTC(2026, 11, 31, 23, 30),
      'Europe/Paris',
      '2027-01',
      Date.UTC(2026, 11, 31, 23),
      Date.UTC(2027, 0, 31, 23),
    ],
    [
      Date.UTC(2026, 2, 31, 16),
      'Asia/Tokyo',
      '2026-04',
      Date.UTC(2026, 2, 31, 15),
      Date.UTC(2026, 3, 30, 15),
    ],
    // March in New York starts in winter time (UTC-5) and ends in summer time (UTC-4).
    [Date.UTC(2026, 2, 15), 'America/New_York', '2026-03', Date.UTC(2026, 2, 1, 5), Date.UTC(2026, 3, 1, 4)],
  ])('%s in %s is %s', (at, zone, id, start, end) => {
    expect(periodAt(at, zone)).toEqual({ id, timeZone: zone, start, end });
  });

  it('parses YYYY-MM and refuses anything else with what was expected', () => {
    expect(parsePeriod('2026-02', 'UTC')).toMatchObject({
      start: Date.UTC(2026, 1, 1),
      end: Date.UTC(2026, 2, 1),
    });
    expect(() => parsePeriod('2026-13', 'UTC')).toThrow('Expected `period` to be a month as `YYYY-MM`');
    expect(() => periodAt(0, 'Mars/Olympus')).toThrow('Expected `timeZone` to be an IANA time zone');
  });
});

describe('plans', () => {
  it.each([
    ['free orders past the quota: blocked, never billed', PLANS.free.quotas.orders, 500, 0],
    ['pro orders under the quota', PLANS.pro.quotas.orders, 10_000, 0],
    ['pro orders: 5 cents each past 10000', PLANS.pro.quotas.orders, 10_003, 15],
    ['pro calls: a started block of 1000 is billed', PLANS.pro.quotas.apiCalls, 1_000_001, 50],
    ['pro calls: two full blocks', PLANS.pro.quotas.apiCalls, 1_002_000, 100],
  ])('%s', (_name, quota, used, cents) => {
    expect(overageCents(quota, used)).toBe(cents);
  });

  it('takes the configured per-minute rates of every plan', () => {
    const plans = planCatalog({
      freeRequestsPerMinute: 7,
      proRequestsPerMinute: 70,
      enterpriseRequestsPerMinute: 700,
    });
    expect([
      plans.free.requestsPerMinute,
      plans.pro.requestsPerMinute,
      plans.enterprise.requestsPerMinute,
    ]).toEqual([7, 70, 700]);
    expect(plans.enterprise.quotas).toBe(PLANS.enterprise.quotas);
  });
});

describe('QuotaEnforcer (memory)', () => {
  const account = { tenantId: 't1', plan: 'free' as const, timeZone: 'UTC' };

  it('stops a blocking quota exactly at its limit and resets with the period', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 31, 23, 59));
    const quotas = new QuotaEnforcer({ store: new MemoryQuotaStore(() => clock.now()), plans: PLANS, clock });
    const decisions = await Promise.all(Array.from({ length: 150 }, () => quotas.consume(account, 'orders')));
    expect(decisions.filter((d) => d.admitted)).toHaveLength(100);
    const refused = decisions.find((d) => !d.admitted)!;
    expect(refused).toMatchObject({ used: 100, included: 100, period: { id: '2026-01' } });

    const problem = quotaProblem(account, refused, clock.now());
    expect(problem.status).toBe(429);
    expect(problem.headers).toEqual({
      'RateLimit-Policy': `"orders-month";q=100;w=${31 * 86_400}`,
      RateLimit: '"orders-month";r=0;t=60',
      'Retry-After': '60',
    });
    expect(problem.toBody()).toMatchObject({ quota: 'orders', resetsAt: '2026-02-01T00:00:00.000Z' });

    clock.advance(60_000);
    expect((await quotas.consume(account, 'orders')).admitted).toBe(true);
  });

  it('admits past the quota as billed overage on a billing plan', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const quotas = new QuotaEnforcer({ store: new MemoryQuotaStore(), plans: PLANS, clock });
    const pro = { ...account, plan: 'pro' as const };
    await quotas.consume(pro, 'orders', 10_000);
    expect(await quotas.consume(pro, 'orders')).toMatchObject({
      admitted: true,
      overage: true,
      used: 10_001,
    });
  });

  it('admits uncounted when the store fails, and says so', async () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const broken = new MemoryQuotaStore();
    broken.consume = () => Promise.reject(new Error('store down'));
    const quotas = new QuotaEnforcer({
      store: broken,
      plans: PLANS,
      clock,
      onStoreError: (e) => errors.push(e),
    });
    expect(await quotas.consume(account, 'orders')).toMatchObject({ admitted: true, uncounted: true });
    expect(errors).toHaveLength(1);
  });

  it('release gives units back, never below zero', async () => {
    const clock = new ManualClock(0);
    const store = new MemoryQuotaStore(() => clock.now());
    const quotas = new QuotaEnforcer({ store, plans: PLANS, clock });
    const d = await quotas.consume(account, 'orders', 2);
    await quotas.release(account, 'orders', d.period, 5);
    expect(await quotas.used(account, 'orders', d.period)).toBe(0);
  });
});
