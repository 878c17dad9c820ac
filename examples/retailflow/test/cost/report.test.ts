import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { CostAttribution } from '../../src/cost/attribution.js';
import { CostMeter, NO_TENANT, OTHER_TENANTS } from '../../src/cost/meter.js';
import { DEFAULT_PRICE_SHEET, loadPriceSheet, parsePriceSheet } from '../../src/cost/price-sheet.js';
import { renderCostHtml, renderCostMarkdown } from '../../src/cost/render.js';
import { priceCosts, retailFlowLevers, type TenantRevenue } from '../../src/cost/report.js';
import type { SqlDriver, SqlSession } from '../../src/data/index.js';

const T0 = Date.UTC(2026, 0, 5);
const sample = (tenant: string | undefined, extra: Partial<Parameters<CostMeter['record']>[0]> = {}) => ({
  tenant,
  method: 'GET',
  route: '/api/v1/products',
  cpuSeconds: 0,
  dbSeconds: 0,
  dbStatements: 0,
  bytesIn: 0,
  bytesOut: 0,
  ...extra,
});

describe('price sheet', () => {
  it('reads the committed example sheet, equal to the default', () => {
    expect(loadPriceSheet(new URL('../../cost/price-sheet.json', import.meta.url).pathname)).toEqual(
      DEFAULT_PRICE_SHEET,
    );
  });

  it.each([
    ['not JSON', '{', /prices\.json: expected JSON/],
    [
      'a missing price',
      '{"currency":"USD","cpuHour":1,"databaseSecond":1,"egressGigabyte":1}',
      /`fixedMonthly` to be a finite number >= 0, got nothing/,
    ],
    [
      'a negative price',
      '{"currency":"USD","cpuHour":-1,"databaseSecond":1,"egressGigabyte":1,"fixedMonthly":1}',
      /`cpuHour`.*got `-1`/,
    ],
    ['a typo', '{"currency":"USD","cpuHours":1}', /unknown field `cpuHours`/],
    ['a bad currency', '{"currency":"dollars"}', /`currency` to be an ISO 4217 code/],
    [
      'a bad share',
      '{"currency":"USD","cpuHour":1,"databaseSecond":1,"egressGigabyte":1,"fixedMonthly":1,"fixedShare":"x"}',
      /`fixedShare`/,
    ],
  ])('refuses %s, naming the file and the field', (_name, text, message) => {
    expect(() => parsePriceSheet(text, 'prices.json')).toThrow(message);
  });

  it('names an unreadable file', () => {
    expect(() => loadPriceSheet('/nonexistent/prices.json')).toThrow(/COST_PRICE_SHEET.*ENOENT/);
  });
});

describe('CostMeter', () => {
  it('sums by tenant, method and route, and bounds the tenant labels', () => {
    const clock = new ManualClock(T0);
    const meter = new CostMeter({ clock, maxTenants: 2, processCpuMicros: () => 0 });
    meter.record(sample('a', { cpuSeconds: 0.5, bytesOut: 10 }));
    meter.record(sample('a', { cpuSeconds: 0.25, bytesOut: 5 }));
    meter.record(sample('b'));
    meter.record(sample('c'));
    meter.record(sample('d'));
    meter.record(sample(undefined));
    const rows = meter.snapshot().rows;
    expect(rows.map((r) => [r.tenant, r.requests])).toEqual([
      ['a', 2],
      ['b', 1],
      [OTHER_TENANTS, 2],
      [NO_TENANT, 1],
    ]);
    expect(rows[0]).toMatchObject({ cpuSeconds: 0.75, bytesOut: 15 });
  });

  it('starts a new window on reset', () => {
    const clock = new ManualClock(T0);
    let cpu = 1_000_000;
    const meter = new CostMeter({ clock, processCpuMicros: () => cpu });
    meter.record(sample('a'));
    clock.advance(60_000);
    cpu += 2_000_000;
    expect(meter.snapshot()).toMatchObject({ from: T0, to: T0 + 60_000, processCpuSeconds: 2 });
    meter.reset();
    expect(meter.snapshot()).toMatchObject({ from: T0 + 60_000, rows: [], processCpuSeconds: 0 });
  });
});

describe('priceCosts', () => {
  // One hour: 1/720 of the 30-day month's fixed cost.
  const prices = {
    currency: 'USD',
    cpuHour: 36,
    databaseSecond: 0.01,
    egressGigabyte: 100,
    fixedMonthly: 720,
    fixedShare: 'cpu' as const,
  };
  const clock = new ManualClock(T0);
  let cpuMicros = 0;
  const meter = new CostMeter({ clock, processCpuMicros: () => cpuMicros });
  // acme: 3 s CPU (0.03 USD), 10 s DB (0.10), 1 GB... no: 0.001 GB out (0.10).
  meter.record(sample('acme', { cpuSeconds: 2, dbSeconds: 10, dbStatements: 20, bytesOut: 1_000_000 }));
  meter.record(sample('acme', { method: 'POST', route: '/api/v1/orders', cpuSeconds: 1 }));
  // globex: 1 s CPU.
  meter.record(sample('globex', { cpuSeconds: 1 }));
  clock.advance(3_600_000);
  cpuMicros = 5_000_000; // 4 s attributed of 5 s.
  const revenues = new Map<string, TenantRevenue>([
    ['acme', { tenantId: 'acme', name: 'Acme', plan: 'pro', revenue: 1 }],
    ['globex', { tenantId: 'globex', name: 'Globex', plan: 'free', revenue: 0 }],
    ['idle', { tenantId: 'idle', name: 'Idle', plan: 'pro', revenue: 0.5 }],
  ]);
  const report = priceCosts(meter.snapshot(), prices, revenues, { levers: retailFlowLevers(() => 0.8) });

  it('prices each resource and shares the fixed cost by CPU time', () => {
    const acme = report.tenants.find((t) => t.tenantId === 'acme')!;
    // CPU 3 s at 36/h = 0.03; DB 10 s = 0.10; egress 0.001 GB = 0.10; fixed 1 of 720/720 * 3/4 = 0.75.
    expect(acme.cost).toEqual({ cpu: 0.03, database: 0.1, egress: 0.1, fixed: 0.75, total: 0.98 });
    expect(acme.margin).toBeCloseTo(0.02, 9);
    expect(acme.costPer1000Requests).toBeCloseTo(490, 6);
    const globex = report.tenants.find((t) => t.tenantId === 'globex')!;
    expect(globex.cost.fixed).toBe(0.25);
    expect(globex.marginRatio).toBeNull();
    // A tenant without traffic still earns its fee and costs nothing.
    expect(report.tenants.find((t) => t.tenantId === 'idle')).toMatchObject({
      cost: { total: 0 },
      margin: 0.5,
    });
  });

  it('sums margins per plan and prices the CPU nobody was charged with', () => {
    expect(report.plans.find((p) => p.plan === 'pro')).toMatchObject({ tenants: 2, revenue: 1.5 });
    expect(report.plans.find((p) => p.plan === 'pro')!.cost).toBeCloseTo(0.98, 9);
    expect(report.totals.attributedCpuRatio).toBe(0.8);
    expect(report.unattributed).toEqual({ cpuSeconds: 1, cost: 0.01 });
    expect(report.totals.cost).toBeCloseTo(0.98 + 0.26 + 0.01, 9);
  });

  it('names the top drivers with their levers', () => {
    const acme = report.tenants.find((t) => t.tenantId === 'acme')!;
    expect(acme.drivers[0]).toMatchObject({
      method: 'GET',
      route: '/api/v1/products',
      mostly: 'database',
      dbStatementsPerRequest: 20,
    });
    expect(acme.drivers[0]!.levers.join(' ')).toContain('hit ratio 80.0%');
    expect(acme.drivers[0]!.levers.join(' ')).toContain('Payload size');
    expect(acme.drivers[1]!.levers.join(' ')).toContain('database statements per request');
    const effects = priceCosts(meter.snapshot(), prices, revenues, {
      levers: retailFlowLevers(() => 0.8),
      effects: { 'catalog-cache': 'off, catalog reads cost 3.1x.' },
    });
    expect(effects.tenants.find((t) => t.tenantId === 'acme')!.drivers[0]!.levers[0]).toContain(
      'Measured: off, catalog reads cost 3.1x.',
    );
  });

  it('renders for a manager with tenant names escaped', () => {
    const hostile = new Map(revenues);
    hostile.set('acme', { tenantId: 'acme', name: '<script>x</script> | *A*', plan: 'pro', revenue: 1 });
    const r = priceCosts(meter.snapshot(), prices, hostile);
    const md = renderCostMarkdown(r);
    expect(md).toContain('&lt;script&gt;x&lt;/script&gt; \\| \\*A\\*');
    expect(md).toContain('| pro | 2 |');
    const html = renderCostHtml(r);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
  });
});

function fakeRequest() {
  const req = Object.assign(new EventEmitter(), { method: 'GET', headers: { 'content-length': '7' } });
  const res = Object.assign(new EventEmitter(), { getHeader: () => '11', statusCode: 200 });
  return { req, res };
}

describe('CostAttribution', () => {
  const busy = (ms: number): number => {
    const start = performance.now();
    while (performance.now() - start < ms) {
      // burn
    }
    return performance.now() - start;
  };

  it('charges a request with its own on-thread time, not what ran while it waited', async () => {
    const meter = new CostMeter({ clock: new ManualClock(T0) });
    const tenants = new WeakMap<object, string>();
    // Uncalibrated: on-thread time as measured (calibration is tested below).
    const attribution = new CostAttribution({
      meter,
      tenantOf: (req) => tenants.get(req),
      calibrationIntervalMs: Infinity,
    });
    try {
      const a = fakeRequest();
      const b = fakeRequest();
      tenants.set(a.req, 'busy');
      tenants.set(b.req, 'idle');
      let burnt = 0;
      const done: Promise<void>[] = [];
      const run = (r: ReturnType<typeof fakeRequest>, work: () => Promise<void>) =>
        attribution.middleware(r.req as never, r.res as never, () => {
          done.push(work().then(() => void r.res.emit('close')));
        });
      // idle starts first and waits (across many turns) while busy burns CPU in its continuations.
      run(b, async () => {
        for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      });
      run(a, async () => {
        for (let i = 0; i < 5; i++) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          burnt += busy(4);
        }
      });
      await Promise.all(done);
      const rows = new Map(meter.snapshot().rows.map((r) => [r.tenant, r]));
      // Everything busy burnt, measured by itself, is charged to it; the idle request is charged far less.
      expect(rows.get('busy')!.cpuSeconds * 1000).toBeGreaterThanOrEqual(burnt);
      expect(rows.get('idle')!.cpuSeconds * 1000).toBeLessThan(burnt / 2);
      expect(rows.get('busy')).toMatchObject({ bytesIn: 7, bytesOut: 11, route: '__unmatched__' });
    } finally {
      attribution.close();
    }
  });

  it("times a request's database statements and transactions on the driver it instruments", async () => {
    const meter = new CostMeter({ clock: new ManualClock(T0) });
    const attribution = new CostAttribution({ meter, tenantOf: () => 't', sampleRate: 1 });
    const session: SqlSession = {
      all: () => new Promise((resolve) => setImmediate(() => resolve([]))),
      run: () => Promise.resolve(1),
      exec: () => Promise.resolve(),
    };
    const driver: SqlDriver = {
      dialect: 'postgres',
      read: (fn) => fn(session),
      transaction: (fn) => fn(session),
      close: () => Promise.resolve(),
    };
    attribution.instrumentDriver(driver);
    try {
      // Outside a request: not timed, still works.
      await driver.read((s) => s.all('SELECT 1'));
      const r = fakeRequest();
      await new Promise<void>((resolve) => {
        attribution.middleware(r.req as never, r.res as never, () => {
          void (async () => {
            await driver.read((s) => s.all('SELECT 1'));
            await driver.transaction(async (s) => {
              await s.run('UPDATE x');
              await s.all('SELECT 2');
            });
            r.res.emit('close');
            resolve();
          })();
        });
      });
      const [row] = meter.snapshot().rows;
      expect(row).toMatchObject({ tenant: 't', requests: 1, dbStatements: 3 });
      expect(row!.dbSeconds).toBeGreaterThan(0);
    } finally {
      attribution.close();
    }
  });

  it('charges process CPU, not wall time: a thread that got no CPU is charged none', async () => {
    const meter = new CostMeter({ clock: new ManualClock(T0) });
    // The process reports no CPU at all while the thread is busy (as if preempted the whole time).
    const attribution = new CostAttribution({
      meter,
      tenantOf: () => 't',
      processCpuMicros: () => 0,
      calibrationIntervalMs: 0,
    });
    try {
      const r = fakeRequest();
      await new Promise<void>((resolve) => {
        attribution.middleware(r.req as never, r.res as never, () => {
          void (async () => {
            await new Promise<void>((done) => setImmediate(done));
            busy(30);
            await new Promise<void>((done) => setImmediate(done));
            r.res.emit('close');
            resolve();
          })();
        });
      });
      expect(meter.snapshot().rows[0]).toMatchObject({ tenant: 't', cpuSeconds: 0 });
    } finally {
      attribution.close();
    }
  });

  it('refuses a sample rate outside 0..1', () => {
    const meter = new CostMeter({ clock: new ManualClock(T0) });
    expect(() => new CostAttribution({ meter, tenantOf: () => undefined, sampleRate: 2 })).toThrow(
      /`sampleRate` to be a number from 0 to 1, got `2`/,
    );
  });
});
