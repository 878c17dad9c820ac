import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '@ballast/core';
import { pruneUsage, recordUsage } from '../../src/billing/usage.js';
import type { SqlRepository } from '../../src/data/index.js';
import type { CostReport } from '../../src/cost/report.js';
import type { RetailFlow } from '../../src/service.js';
import { ACME, ADMIN, GLOBEX, OPS, T0, call, order, settle, startTestService } from '../helpers.js';

let service: RetailFlow;
let clock: ManualClock;
beforeAll(async () => {
  ({ service, clock } = await startTestService());
});
afterAll(() => service.shutdown());

const report = async () => {
  const answer = await call<CostReport>(service.opsUrl, 'GET', '/admin/cost', { key: ADMIN });
  expect(answer.status).toBe(200);
  return answer.body;
};

describe('GET /admin/cost', () => {
  it('attributes CPU, database time and bytes to the tenant and route that used them', async () => {
    expect((await call(service.opsUrl, 'POST', '/admin/cost/reset', { key: ADMIN })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      expect((await call(service.url, 'GET', '/api/v1/products?limit=50', { key: ACME })).status).toBe(200);
    }
    expect((await settle(clock, order(service.url, ACME, 'cost-1'))).status).toBe(201);
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: GLOBEX })).status).toBe(200);
    expect((await call(service.url, 'GET', '/api/v1/products')).status).toBe(401);
    clock.advance(60_000);

    const body = await report();
    const acme = body.tenants.find((t) => t.tenantId === 'acme')!;
    expect(acme).toMatchObject({ plan: 'pro', requests: 4 });
    expect(acme.name).not.toBe('acme');
    const products = acme.drivers.find((d) => d.route === '/api/v1/products')!;
    expect(products).toMatchObject({ method: 'GET', requests: 3 });
    expect(products.bytesOutPerRequest).toBeGreaterThan(100);
    // The catalog cache lever, with the hit ratio now and the effect the proof measured.
    expect(products.levers.join(' ')).toMatch(/hit ratio \d+\.\d%.*Measured: in the proof/);
    const checkout = acme.drivers.find((d) => d.method === 'POST' && d.route === '/api/v1/orders')!;
    expect(checkout.dbStatementsPerRequest).toBeGreaterThan(1);
    expect(acme.cpuSeconds).toBeGreaterThan(0);
    expect(acme.dbSeconds).toBeGreaterThan(0);
    expect(acme.cost.total).toBeGreaterThan(0);
    // The window (a minute and the checkout's settling) of a pro plan's month: its base fee pro rata.
    expect(acme.revenue).toBeCloseTo((49 * body.window.seconds * 1000) / (31 * 86_400_000), 9);
    const globex = body.tenants.find((t) => t.tenantId === 'globex')!;
    expect(globex).toMatchObject({ plan: 'free', requests: 1, revenue: 0 });
    expect(body.tenants.find((t) => t.tenantId === '__none__')).toMatchObject({ requests: 1 });
    expect(body.plans.map((p) => p.plan).sort()).toEqual(['free', 'pro']);
    expect(body.window.seconds).toBeGreaterThanOrEqual(60);
    expect(body.totals.attributedCpuRatio).toBeGreaterThan(0);
    expect(body.method).toContain('async_hooks');
  });

  it('exposes the per-tenant counters on /metrics', async () => {
    const metrics = await call<string>(service.opsUrl, 'GET', '/metrics', { key: OPS });
    expect(metrics.body).toMatch(
      /retailflow_cost_requests_total\{[^}]*tenant="acme"[^}]*route="\/api\/v1\/products"/,
    );
    expect(metrics.body).toMatch(/retailflow_cost_db_seconds_total\{[^}]*tenant="acme"/);
    expect(metrics.body).toMatch(/retailflow_cost_bytes_total\{[^}]*direction="out"/);
  });

  it('renders the manager report as Markdown or HTML by Accept', async () => {
    const md = await call<string>(service.opsUrl, 'GET', '/admin/cost', {
      key: ADMIN,
      headers: { accept: 'text/markdown' },
    });
    expect(md.contentType).toContain('text/markdown');
    expect(md.body).toContain('## Margin per plan');
    const html = await call<string>(service.opsUrl, 'GET', '/admin/cost', {
      key: ADMIN,
      headers: { accept: 'text/html' },
    });
    expect(html.contentType).toContain('text/html');
    expect(html.body).toContain('<h1>RetailFlow cost report</h1>');
    const refused = await call(service.opsUrl, 'GET', '/admin/cost', {
      key: ADMIN,
      headers: { accept: 'image/png' },
    });
    expect(refused.status).toBe(406);
  });

  it('is for admins only (the ops token is not enough), and audits a reset', async () => {
    expect((await call(service.opsUrl, 'GET', '/admin/cost')).status).toBe(401);
    expect((await call(service.opsUrl, 'GET', '/admin/cost', { key: ACME })).status).toBe(401);
    expect((await call(service.opsUrl, 'GET', '/admin/cost', { key: OPS })).status).toBe(401);
    expect((await call(service.opsUrl, 'POST', '/admin/cost/reset', { key: OPS })).status).toBe(401);
    // The tenant API has no such route.
    expect((await call(service.url, 'GET', '/api/v1/cost', { key: ACME })).status).toBe(404);
    expect((await call(service.opsUrl, 'POST', '/admin/cost/reset', { key: ADMIN })).status).toBe(200);
    const audit = await service.repo.listAudit('acme', { includeSystem: true, limit: 50 });
    expect(audit.items.some((e) => e.action === 'cost.reset' && e.actor === 'admin-key')).toBe(true);
    // A new window: only the reset itself (ops traffic, no tenant) so far.
    const body = await report();
    expect(body.tenants.filter((t) => t.requests > 0).map((t) => [t.tenantId, t.requests])).toEqual([
      ['__none__', 1],
    ]);
  });
});

describe('plans at the rate limiter', () => {
  it("gives an enterprise billing account its plan's rate, not its tenants row's", async () => {
    const policyOf = async () =>
      (await call(service.url, 'GET', '/api/v1/flags', { key: ACME })).headers.get('ratelimit-policy') ?? '';
    expect(await policyOf()).toMatch(/q=1200\b|^1200;/);
    await service.billing.accounts.set({ tenantId: 'acme', plan: 'enterprise', timeZone: 'UTC' });
    // Billing accounts are cached with the tenant (60 s).
    clock.advance(61_000);
    expect(await policyOf()).toMatch(/q=6000\b|^6000;/);
    await service.billing.accounts.set({ tenantId: 'acme', plan: 'pro', timeZone: 'UTC' });
    clock.advance(61_000);
  });
});

describe('usage retention', () => {
  it('prunes usage events older than the retention, keeping the rest', async () => {
    const driver = (service.repo as SqlRepository).driver;
    const day = 86_400_000;
    await driver.transaction(async (s) => {
      for (let i = 0; i < 7; i++) {
        await recordUsage(s, {
          type: 'order.placed',
          tenantId: 'globex',
          subject: `old-${i}`,
          quantity: 1,
          occurredAt: T0 - 500 * day + i,
        });
      }
      await recordUsage(s, {
        type: 'order.placed',
        tenantId: 'globex',
        subject: 'recent',
        quantity: 1,
        occurredAt: T0 - day,
      });
    });
    const count = async () =>
      Number(
        (
          await driver.read((s) => s.all("SELECT COUNT(*) AS n FROM usage_events WHERE tenant_id = 'globex'"))
        )[0]!.n,
      );
    const before = await count();
    // Batches of 3: several rounds.
    expect(await pruneUsage(driver, T0 - 400 * day, 3)).toBe(7);
    expect(await count()).toBe(before - 7);
    expect(await pruneUsage(driver, T0 - 400 * day, 3)).toBe(0);
  });
});
