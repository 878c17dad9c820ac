import { randomBytes } from 'node:crypto';
import { freshDatabase, KEYS, startService, type ServiceProcess } from './service.js';

type Goal = { readonly value: number; readonly goal: number; readonly met: boolean };

/** One route of a cost report (see examples/retailflow/src/cost/report.ts). */
interface RouteCost {
  readonly method: string;
  readonly route: string;
  readonly requests: number;
  readonly cpuSeconds: number;
  readonly dbSeconds: number;
  readonly bytesOut: number;
  readonly cost: number;
  readonly costPer1000Requests: number;
}
interface CostReport {
  readonly window: { readonly seconds: number };
  readonly currency: string;
  readonly prices: { readonly fixedMonthly: number };
  readonly totals: { readonly attributedCpuRatio: number | null; readonly processCpuSeconds: number; readonly cpuSeconds: number; readonly cost: number };
  readonly tenants: readonly {
    readonly tenantId: string;
    readonly plan?: string;
    readonly requests: number;
    readonly cost: { readonly total: number; readonly cpu: number; readonly database: number; readonly egress: number; readonly fixed: number };
    readonly revenue: number;
    readonly margin: number;
    readonly costPer1000Requests: number;
  }[];
  readonly plans: readonly { readonly plan: string; readonly cost: number; readonly revenue: number; readonly margin: number; readonly marginRatio: number | null }[];
  readonly routes: readonly RouteCost[];
}

/** A lever measured on and off, on the same workload. */
export interface LeverFigure {
  readonly lever: string;
  readonly route: string;
  readonly requests: number;
  /** Variable cost of 1,000 requests of the route with the lever pulled (the cheaper setting) and without. */
  readonly on: { readonly costPer1000: number; readonly dbMsPerRequest: number; readonly bytesOutPerRequest: number; readonly cpuMsPerRequest: number };
  readonly off: { readonly costPer1000: number; readonly dbMsPerRequest: number; readonly bytesOutPerRequest: number; readonly cpuMsPerRequest: number };
  /** off / on: how many times more the route costs without the lever. */
  readonly ratio: number;
}

/** What the cost part of the monetization section measured. */
export interface CostResult {
  readonly currency: string;
  readonly windowSec: number;
  readonly checkouts: number;
  /** Variable cost (CPU, database, egress) of 1,000 placed checkouts, in the price sheet's currency. */
  readonly costPer1000Checkouts: number;
  /** With the checkouts' share (by CPU) of the fixed platform cost over the window, at this traffic. */
  readonly costPer1000CheckoutsLoaded: number;
  readonly checkoutCpuMs: number;
  readonly checkoutDbMs: number;
  readonly attributedCpuRatio: number | null;
  readonly tenants: readonly { readonly tenant: string; readonly plan: string | null; readonly requests: number; readonly cost: number; readonly revenue: number; readonly margin: number; readonly costPer1000Requests: number }[];
  readonly plans: CostReport['plans'];
  readonly levers: readonly LeverFigure[];
  readonly goals: Record<string, Goal>;
}

async function request(url: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<number> {
  try {
    const response = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

/** Runs `count` calls of `one` with `workers` in flight; answers how many answered 2xx. */
async function load(count: number, workers: number, one: (i: number) => Promise<number>): Promise<number> {
  let next = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) {
        const status = await one(next++);
        if (status >= 200 && status < 300) ok++;
      }
    }),
  );
  return ok;
}

async function admin(service: ServiceProcess, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const response = await fetch(service.opsUrl + path, { method, headers: { authorization: `Bearer ${KEYS.admin}` } });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

const reset = (s: ServiceProcess) => admin(s, 'POST', '/admin/cost/reset');
const report = async (s: ServiceProcess) => (await admin(s, 'GET', '/admin/cost')) as CostReport;

function routeOf(r: CostReport, method: string, route: string): RouteCost {
  const found = r.routes.find((x) => x.method === method && x.route === route);
  if (!found) throw new Error(`no ${method} ${route} in the cost report: ${JSON.stringify(r.routes.map((x) => `${x.method} ${x.route}`))}`);
  return found;
}

function perRequest(r: RouteCost) {
  return {
    costPer1000: r.costPer1000Requests,
    dbMsPerRequest: Number(((r.dbSeconds / r.requests) * 1000).toFixed(3)),
    cpuMsPerRequest: Number(((r.cpuSeconds / r.requests) * 1000).toFixed(3)),
    bytesOutPerRequest: Math.round(r.bytesOut / r.requests),
  };
}

/** Measures `route` with a lever on (`measureOn`) and off (`measureOff`), each after a reset of the window. */
async function lever(name: string, method: string, route: string, requests: number, on: () => Promise<CostReport>, off: () => Promise<CostReport>): Promise<LeverFigure> {
  const a = perRequest(routeOf(await on(), method, route));
  const b = perRequest(routeOf(await off(), method, route));
  return { lever: name, route: `${method} ${route}`, requests, on: a, off: b, ratio: a.costPer1000 > 0 ? Number((b.costPer1000 / a.costPer1000).toFixed(2)) : 0 };
}

/**
 * Cost attribution on a live RetailFlow: a mix of checkouts, catalog reads and order listings by a pro and a free
 * tenant, priced by the example price sheet (`GET /admin/cost`): cost of 1,000 checkouts, cost and margin per
 * tenant and plan, and the share of the process's CPU attributed to requests. Then two levers, each on the same
 * workload on and off: the catalog cache (one instance with `CATALOG_CACHE=false`) and the page size of order
 * listings (`limit=100` against `limit=10`).
 */
export async function costAttribution(options: {
  readonly env: Record<string, string>;
  readonly quick: boolean;
  readonly log: (line: string) => void;
}): Promise<CostResult> {
  const env: Record<string, string> = {
    ...options.env,
    QUOTAS: 'true',
    QUOTA_KEY_PREFIX: `proof_${randomBytes(4).toString('hex')}:quota:`,
    // The cost of the work, not the rate limits: the pro tenant sends faster than 1,200 a minute.
    PRO_REQUESTS_PER_MINUTE: '1000000',
  };
  const database = async () =>
    env.DATABASE_URL === undefined ? {} : { DATABASE_URL: await freshDatabase(env.DATABASE_URL, `ballast_proof_cost_${randomBytes(4).toString('hex')}`) };
  const services: ServiceProcess[] = [];
  try {
    const a = await startService({ ...env, ...(await database()) }, { startTimeoutMs: 120_000 });
    services.push(a);
    const checkouts = options.quick ? 120 : 400;
    const reads = options.quick ? 300 : 1000;
    options.log(`monetization: cost of a mix (${checkouts} checkouts, ${reads} catalog reads, order listings) by tenant, route and plan`);
    await reset(a);
    // A checkout refused for the tenant's concurrent checkouts (429) or a busy inventory (503) is retried with its key.
    const placed = await load(checkouts, 4, async (i) => {
      const key = `cost-${i}-${randomBytes(4).toString('hex')}`;
      let status = 0;
      for (let attempt = 0; attempt < 20 && (attempt === 0 || status === 429 || status === 503 || status === 0); attempt++) {
        status = await request(a.url, KEYS.acme, 'POST', '/api/v1/orders', { items: [{ productId: 'sku-filter', quantity: 1 }] }, { 'idempotency-key': key });
      }
      return status === 201 ? 201 : status;
    });
    await load(reads, 4, (i) => request(a.url, KEYS.acme, 'GET', i % 3 === 0 ? '/api/v1/products/sku-mug' : '/api/v1/products'));
    await load(60, 2, () => request(a.url, KEYS.globex, 'GET', '/api/v1/products'));
    await load(40, 2, () => request(a.url, KEYS.acme, 'GET', '/api/v1/orders?limit=20'));
    const mix = await report(a);
    const checkout = routeOf(mix, 'POST', '/api/v1/orders');
    const costPer1000Checkouts = placed > 0 ? Number(((checkout.cost / placed) * 1000).toFixed(6)) : 0;
    const fixedPool = (mix.prices.fixedMonthly * mix.window.seconds) / (30 * 86_400);
    const fixedShare = mix.totals.cpuSeconds > 0 ? (fixedPool * checkout.cpuSeconds) / mix.totals.cpuSeconds : 0;
    const costPer1000CheckoutsLoaded = placed > 0 ? Number((((checkout.cost + fixedShare) / placed) * 1000).toFixed(6)) : 0;
    options.log(
      `monetization:   ${placed} checkouts placed: ${costPer1000Checkouts} ${mix.currency} per 1,000 (variable), ${costPer1000CheckoutsLoaded} with the fixed share; attributed CPU ${((mix.totals.attributedCpuRatio ?? 0) * 100).toFixed(0)}% of the process's`,
    );

    const levers: LeverFigure[] = [];
    const n = options.quick ? 150 : 500;
    options.log(`monetization: lever "page size": ${n} order listings with limit=10, then limit=100`);
    levers.push(
      await lever('page size (limit=10 vs 100)', 'GET', '/api/v1/orders', n,
        async () => (await reset(a), await load(n, 4, () => request(a.url, KEYS.acme, 'GET', '/api/v1/orders?limit=10')), report(a)),
        async () => (await reset(a), await load(n, 4, () => request(a.url, KEYS.acme, 'GET', '/api/v1/orders?limit=100')), report(a)),
      ),
    );
    options.log(`monetization: lever "catalog cache": ${n} catalog reads with the cache, then on an instance without`);
    const catalogReads = (s: ServiceProcess) => load(n, 4, (i) => request(s.url, KEYS.acme, 'GET', i % 2 === 0 ? '/api/v1/products' : '/api/v1/products/sku-kettle'));
    let b: ServiceProcess | undefined;
    levers.push(
      await lever('catalog cache (on vs off)', 'GET', '/api/v1/products', n,
        async () => (await reset(a), await catalogReads(a), report(a)),
        async () => {
          // One instance at a time: the machine measures one service.
          await a.stop();
          b = await startService({ ...env, CATALOG_CACHE: 'false', ...(await database()) }, { startTimeoutMs: 120_000 });
          services.push(b);
          await catalogReads(b);
          // Warm-up done (connections, JIT): measure a second round.
          await reset(b);
          await catalogReads(b);
          return report(b);
        },
      ),
    );
    for (const l of levers) {
      options.log(`monetization:   ${l.lever}: cost of 1,000 without / with ${l.off.costPer1000} / ${l.on.costPer1000} (${l.ratio}x; db ${l.off.dbMsPerRequest} / ${l.on.dbMsPerRequest} ms, ${l.off.bytesOutPerRequest} / ${l.on.bytesOutPerRequest} B per request)`);
    }

    const attributed = mix.totals.attributedCpuRatio ?? 0;
    const goal = (value: number, target: number, met: boolean): Goal => ({ value, goal: target, met });
    return {
      currency: mix.currency,
      windowSec: mix.window.seconds,
      checkouts: placed,
      costPer1000Checkouts,
      costPer1000CheckoutsLoaded,
      checkoutCpuMs: Number(((checkout.cpuSeconds / checkout.requests) * 1000).toFixed(3)),
      checkoutDbMs: Number(((checkout.dbSeconds / checkout.requests) * 1000).toFixed(3)),
      attributedCpuRatio: mix.totals.attributedCpuRatio,
      tenants: mix.tenants.map((t) => ({ tenant: t.tenantId, plan: t.plan ?? null, requests: t.requests, cost: t.cost.total, revenue: t.revenue, margin: t.margin, costPer1000Requests: t.costPer1000Requests })),
      plans: mix.plans,
      levers,
      goals: {
        // Most of the process's CPU is charged to someone: the rest (front door, relay, scrapes, GC) is stated.
        costAttributedCpuShare: goal(Number(attributed.toFixed(3)), 0.5, attributed >= 0.5),
        // Every tenant that sent requests has a cost.
        costEveryTenantPriced: goal(mix.tenants.filter((t) => t.requests > 0 && !(t.cost.total > 0)).length, 0, mix.tenants.every((t) => t.requests === 0 || t.cost.total > 0)),
        // Each lever cuts its route's cost.
        costLeversCut: goal(levers.filter((l) => !(l.ratio > 1)).length, 0, levers.every((l) => l.ratio > 1)),
      },
    };
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
  }
}
