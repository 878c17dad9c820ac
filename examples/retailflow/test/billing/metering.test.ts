import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '@ballast/core';
import { periodAt } from '../../src/billing/period.js';
import { loadConfig } from '../../src/config.js';
import { exportUsage } from '../../src/billing/usage.js';
import type { RetailFlow } from '../../src/service.js';
import { ACME, GLOBEX, T0, call, order, settle, startTestService } from '../helpers.js';

let service: RetailFlow;
let clock: ManualClock;
beforeAll(async () => {
  ({ service, clock } = await startTestService());
});
afterAll(() => service.shutdown());

const place = (key: string, idempotencyKey: string) => settle(clock, order(service.url, key, idempotencyKey));

interface Usage {
  plan: string;
  period: { id: string; end: string };
  quotas: Record<
    'orders' | 'apiCalls',
    { included: number; used: number; projected: number; overage: string }
  >;
}

describe('usage metering', () => {
  it('bills a placed order once, however often its checkout is replayed', async () => {
    expect((await place(ACME, 'meter-1')).status).toBe(201);
    const replays = await Promise.all([
      place(ACME, 'meter-1'),
      place(ACME, 'meter-1'),
      place(ACME, 'meter-1'),
    ]);
    expect(replays.map((r) => [r.status, r.headers.get('idempotent-replayed')])).toEqual([
      [201, 'true'],
      [201, 'true'],
      [201, 'true'],
    ]);
    // A checkout whose payment could not be taken places no order: nothing billed.
    service.provider!.setKnobs({ down: true });
    expect((await place(ACME, 'meter-unpaid')).status).toBe(503);
    service.provider!.setKnobs({ down: false });

    const usage = await call<Usage>(service.url, 'GET', '/api/v1/usage', { key: ACME });
    expect(usage.status).toBe(200);
    expect(usage.body.plan).toBe('pro');
    expect(usage.body.period.id).toBe('2026-01');
    expect(usage.body.quotas.orders).toMatchObject({ included: 10_000, used: 1, overage: 'bill' });
    // Four days into a 31-day month: one order projects to about eight.
    expect(usage.body.quotas.orders.projected).toBe(Math.round(1 / (4 / 31)));

    // The quota counter follows the bill: the replays and the unpaid checkout gave their units back.
    const acme = { tenantId: 'acme', plan: 'pro' as const, timeZone: 'UTC' };
    expect(await service.billing.quotas.used(acme, 'orders', periodAt(clock.now(), 'UTC'))).toBe(1);

    const events = await exportUsage(service.billing.ledger, periodAt(T0, 'UTC'), { tenantId: 'acme' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      source: '/retailflow',
      type: 'com.retailflow.usage.order.placed',
      subject: expect.stringMatching(/^tenants\/acme\/orders\//) as unknown,
      datacontenttype: 'application/json',
      data: { tenantId: 'acme', quantity: 1, unit: 'order' },
    });
  });

  it('stops a free tenant at its orders quota with the quota, its reset and Retry-After; replays still answer', async () => {
    const account = { tenantId: 'globex', plan: 'free' as const, timeZone: 'UTC' };
    const before = await service.billing.quotas.consume(account, 'orders', 0);
    await service.billing.quotas.consume(account, 'orders', 99 - before.used);
    expect((await place(GLOBEX, 'quota-last')).status).toBe(201);

    const refused = await place(GLOBEX, 'quota-over');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      type: expect.stringMatching(/quota-exceeded$/) as unknown,
      quota: 'orders',
      plan: 'free',
      included: 100,
      used: 100,
      resetsAt: '2026-02-01T00:00:00.000Z',
    });
    const resetIn = String(Math.ceil((Date.UTC(2026, 1, 1) - clock.now()) / 1000));
    expect(refused.headers.get('retry-after')).toBe(resetIn);
    expect(refused.headers.get('ratelimit')).toBe(`"orders-month";r=0;t=${resetIn}`);
    expect(refused.headers.get('ratelimit-policy')).toBe(`"orders-month";q=100;w=${31 * 86_400}`);

    // The checkout placed before the stop replays its answer instead of a 429.
    const replay = await place(GLOBEX, 'quota-last');
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    const usage = await call<Usage>(service.url, 'GET', '/api/v1/usage', { key: GLOBEX });
    expect(usage.body.quotas.orders).toMatchObject({ used: 1, overage: 'block' });
  });

  it('refuses a bad period with where and what was expected', async () => {
    const bad = await call(service.url, 'GET', '/api/v1/usage?period=26-1', { key: ACME });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'query/period', message: 'must match YYYY-MM' }]);
  });
});

describe('QUOTAS=false', () => {
  it('meters orders but counts and refuses nothing', async () => {
    expect(loadConfig({ QUOTAS: 'false' }).quotas).toBe(false);
    expect(loadConfig({}).quotas).toBe(true);
    expect(() => loadConfig({ QUOTAS: 'maybe' })).toThrow('QUOTAS');
    const off = await startTestService({ quotas: false });
    try {
      const account = { tenantId: 'globex', plan: 'free' as const, timeZone: 'UTC' };
      await off.service.billing.quotas.consume(account, 'orders', 100);
      const placed = await settle(off.clock, order(off.service.url, GLOBEX, 'off-1'));
      expect(placed.status).toBe(201);
      const usage = await call<Usage>(off.service.url, 'GET', '/api/v1/usage', { key: GLOBEX });
      expect(usage.body.quotas.orders.used).toBe(1);
      expect(usage.body.quotas.apiCalls.used).toBe(0);
    } finally {
      await off.service.shutdown();
    }
  });
});

describe('GET /api/v1/invoice', () => {
  it('renders the period so far as HTML or Markdown, by Accept', async () => {
    const html = await call<string>(service.url, 'GET', '/api/v1/invoice', {
      key: ACME,
      headers: { accept: 'text/html' },
    });
    expect(html.status).toBe(200);
    expect(html.contentType).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('<h1>Invoice acme-2026-01</h1>');
    expect(html.body).toContain('<td class="num" id="total">$49.00</td>');
    const md = await call<string>(service.url, 'GET', '/api/v1/invoice?period=2026-01', {
      key: ACME,
      headers: { accept: 'text/markdown' },
    });
    expect(md.body).toContain('| Orders | 1 | 10,000 | overage billed |');
    const refused = await call(service.url, 'GET', '/api/v1/invoice', {
      key: ACME,
      headers: { accept: 'image/png' },
    });
    expect([refused.status, refused.body.type]).toEqual([
      406,
      expect.stringMatching(/not-acceptable$/) as unknown,
    ]);
  });
});
