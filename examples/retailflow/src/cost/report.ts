import type { PlanId } from '../billing/plans.js';
import { NO_TENANT, OTHER_TENANTS, type CostRow, type CostSnapshot } from './meter.js';
import type { PriceSheet } from './price-sheet.js';

const MONTH_SECONDS = 30 * 86_400;

/** Money by resource, in the price sheet's currency. */
export interface CostBreakdown {
  readonly cpu: number;
  readonly database: number;
  readonly egress: number;
  /** The tenant's share of the fixed platform cost over the window. */
  readonly fixed: number;
  readonly total: number;
}

/** One route among a tenant's costs. */
export interface CostDriver {
  readonly method: string;
  readonly route: string;
  readonly requests: number;
  readonly cost: number;
  /** Share of the tenant's variable cost (CPU, database, egress). */
  readonly share: number;
  /** The resource that costs most on this route. */
  readonly mostly: 'cpu' | 'database' | 'egress';
  readonly dbStatementsPerRequest: number;
  readonly bytesOutPerRequest: number;
  /** What would cut it, with its measured effect when one was measured. */
  readonly levers: readonly string[];
}

/** What the report knows of a tenant's revenue over the window. */
export interface TenantRevenue {
  readonly tenantId: string;
  readonly name: string;
  readonly plan: PlanId;
  /** Revenue earned over the window: the base fee pro rata plus overage billed for units in the window. */
  readonly revenue: number;
}

/** One tenant in a cost report. */
export interface TenantCost {
  readonly tenantId: string;
  readonly name: string;
  readonly plan: PlanId | undefined;
  readonly requests: number;
  readonly cpuSeconds: number;
  readonly dbSeconds: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly cost: CostBreakdown;
  readonly revenue: number;
  readonly margin: number;
  /** Margin over revenue (`null` without revenue). */
  readonly marginRatio: number | null;
  /** Cost of 1,000 of its requests. */
  readonly costPer1000Requests: number;
  readonly drivers: readonly CostDriver[];
}

/** One plan in a cost report: its tenants summed. */
export interface PlanMargin {
  readonly plan: PlanId;
  readonly tenants: number;
  readonly cost: number;
  readonly revenue: number;
  readonly margin: number;
  readonly marginRatio: number | null;
}

/** One route over every tenant: its variable cost (CPU, database, egress). */
export interface RouteCost {
  readonly method: string;
  readonly route: string;
  readonly requests: number;
  readonly cpuSeconds: number;
  readonly dbSeconds: number;
  readonly bytesOut: number;
  readonly cost: number;
  readonly costPer1000Requests: number;
}

/** What `GET /admin/cost` answers: cost, revenue and margin per tenant and plan over a window of this instance. */
export interface CostReport {
  readonly window: { readonly from: string; readonly to: string; readonly seconds: number };
  readonly currency: string;
  readonly prices: PriceSheet;
  readonly totals: {
    readonly requests: number;
    readonly cpuSeconds: number;
    readonly dbSeconds: number;
    readonly bytesOut: number;
    /** The process's CPU time over the window. */
    readonly processCpuSeconds: number;
    /** Attributed CPU over the process's CPU (`null` when the process used none). */
    readonly attributedCpuRatio: number | null;
    readonly cost: number;
    readonly revenue: number;
    readonly margin: number;
  };
  readonly tenants: readonly TenantCost[];
  readonly plans: readonly PlanMargin[];
  /** Every route's variable cost over every tenant, most expensive first. */
  readonly routes: readonly RouteCost[];
  /** Process CPU no request was charged with (relay, consumer, scrapes, the front door, GC), priced. */
  readonly unattributed: { readonly cpuSeconds: number; readonly cost: number };
  readonly method: string;
}

/** A lever that cuts a route's cost, and its effect where one was measured. */
export interface LeverRule {
  readonly id: string;
  /** Whether the lever applies to a route of a tenant. */
  readonly applies: (driver: Omit<CostDriver, 'levers'>) => boolean;
  /** What to do, with what is observed now. */
  readonly advice: (driver: Omit<CostDriver, 'levers'>) => string;
}

/** Measured effects of levers by id (e.g. `catalog-cache`), as a sentence: the proof measures them. */
export type LeverEffects = Readonly<Record<string, string>>;

/**
 * The lever effects the proof's monetization section measured (quick run of 2026-12-06,
 * `proof/monetization-cost-quick-2026-12-06/`): quoted next to each lever in the report.
 */
export const MEASURED_LEVER_EFFECTS: LeverEffects = {
  'catalog-cache':
    'in the proof, a catalog read cost 10.7x more without the cache (27 ms of database time against 0.2 ms).',
  'page-size':
    'in the proof, a page of 10 orders cost 1.6x less than a page of 100 (3.8 KB against 37 KB a response).',
};

const round = (n: number, digits = 6) => Number(n.toFixed(digits));
const ratio = (part: number, whole: number) => (whole > 0 ? round(part / whole, 4) : null);

function variableCost(row: Pick<CostRow, 'cpuSeconds' | 'dbSeconds' | 'bytesOut'>, prices: PriceSheet) {
  const cpu = (row.cpuSeconds / 3600) * prices.cpuHour;
  const database = row.dbSeconds * prices.databaseSecond;
  const egress = (row.bytesOut / 1e9) * prices.egressGigabyte;
  return { cpu, database, egress };
}

/** The attribution method, as the report states it. */
export const COST_METHOD =
  "CPU: on-thread time of each request's JavaScript (async_hooks segments in its AsyncLocalStorage context); " +
  'database: time from each statement to its answer, plus transaction begin/commit; egress: response ' +
  'Content-Length. Fixed cost is shared by CPU time (or requests, by the price sheet). Revenue over the window: the ' +
  "plan's base fee pro rata (30-day month) plus overage billed for units in the window. Figures are this instance's " +
  'since its start (or the last reset).';

/**
 * Prices a meter snapshot: cost per tenant (CPU, database, egress, fixed share), revenue and margin per tenant
 * and plan, and each tenant's top cost drivers with the levers that would cut them. Pure: everything it needs is
 * passed in.
 *
 * @example
 * ```ts
 * const report = priceCosts(meter.snapshot(), DEFAULT_PRICE_SHEET, revenues, { levers: COST_LEVERS });
 * ```
 */
export function priceCosts(
  snapshot: CostSnapshot,
  prices: PriceSheet,
  revenues: ReadonlyMap<string, TenantRevenue>,
  options: {
    readonly levers?: readonly LeverRule[];
    readonly effects?: LeverEffects;
    readonly topDrivers?: number;
  } = {},
): CostReport {
  const seconds = Math.max(0, (snapshot.to - snapshot.from) / 1000);
  const byTenant = new Map<string, CostRow[]>();
  for (const row of snapshot.rows) {
    const rows = byTenant.get(row.tenant) ?? [];
    rows.push(row);
    byTenant.set(row.tenant, rows);
  }
  // Tenants with revenue but no traffic still cost their share of nothing and earn their fee.
  for (const id of revenues.keys()) if (!byTenant.has(id)) byTenant.set(id, []);
  const sum = (
    rows: readonly CostRow[],
    key: 'requests' | 'cpuSeconds' | 'dbSeconds' | 'bytesIn' | 'bytesOut' | 'dbStatements',
  ) => rows.reduce((s, r) => s + r[key], 0);
  const all = snapshot.rows;
  const totalCpu = sum(all, 'cpuSeconds');
  const totalRequests = sum(all, 'requests');
  const fixedPool = (prices.fixedMonthly * seconds) / MONTH_SECONDS;
  const levers = options.levers ?? [];
  const effects = options.effects ?? {};

  const tenants: TenantCost[] = [];
  for (const [tenantId, rows] of byTenant) {
    const cpuSeconds = sum(rows, 'cpuSeconds');
    const requests = sum(rows, 'requests');
    const v = variableCost(
      { cpuSeconds, dbSeconds: sum(rows, 'dbSeconds'), bytesOut: sum(rows, 'bytesOut') },
      prices,
    );
    const share =
      prices.fixedShare === 'cpu'
        ? totalCpu > 0
          ? cpuSeconds / totalCpu
          : 0
        : totalRequests > 0
          ? requests / totalRequests
          : 0;
    const fixed = fixedPool * share;
    const variable = v.cpu + v.database + v.egress;
    const total = variable + fixed;
    const revenueOf = revenues.get(tenantId);
    const revenue = revenueOf?.revenue ?? 0;
    const drivers = rows
      .map((row) => {
        const c = variableCost(row, prices);
        const cost = c.cpu + c.database + c.egress;
        const mostly: CostDriver['mostly'] =
          c.database >= c.cpu && c.database >= c.egress ? 'database' : c.egress > c.cpu ? 'egress' : 'cpu';
        const base = {
          method: row.method,
          route: row.route,
          requests: row.requests,
          cost: round(cost, 9),
          share: variable > 0 ? round(cost / variable, 4) : 0,
          mostly,
          dbStatementsPerRequest: row.requests > 0 ? round(row.dbStatements / row.requests, 2) : 0,
          bytesOutPerRequest: row.requests > 0 ? Math.round(row.bytesOut / row.requests) : 0,
        };
        return {
          ...base,
          levers: levers
            .filter((lever) => lever.applies(base))
            .map((lever) => {
              const effect = effects[lever.id];
              return effect === undefined ? lever.advice(base) : `${lever.advice(base)} Measured: ${effect}`;
            }),
        };
      })
      .sort((a, b) => b.cost - a.cost)
      .slice(0, options.topDrivers ?? 3);
    tenants.push({
      tenantId,
      name:
        revenueOf?.name ??
        (tenantId === NO_TENANT
          ? 'No tenant (unauthenticated)'
          : tenantId === OTHER_TENANTS
            ? 'Other tenants'
            : tenantId),
      plan: revenueOf?.plan,
      requests,
      cpuSeconds: round(cpuSeconds),
      dbSeconds: round(sum(rows, 'dbSeconds')),
      bytesIn: sum(rows, 'bytesIn'),
      bytesOut: sum(rows, 'bytesOut'),
      cost: {
        cpu: round(v.cpu, 9),
        database: round(v.database, 9),
        egress: round(v.egress, 9),
        fixed: round(fixed, 9),
        total: round(total, 9),
      },
      revenue: round(revenue, 9),
      margin: round(revenue - total, 9),
      marginRatio: revenue > 0 ? round((revenue - total) / revenue, 4) : null,
      costPer1000Requests: requests > 0 ? round((total / requests) * 1000, 9) : 0,
      drivers,
    });
  }
  tenants.sort((a, b) => b.cost.total - a.cost.total || a.tenantId.localeCompare(b.tenantId));

  const plans: PlanMargin[] = [];
  for (const plan of new Set(tenants.flatMap((t) => (t.plan === undefined ? [] : [t.plan])))) {
    const members = tenants.filter((t) => t.plan === plan);
    const cost = members.reduce((s, t) => s + t.cost.total, 0);
    const revenue = members.reduce((s, t) => s + t.revenue, 0);
    plans.push({
      plan,
      tenants: members.length,
      cost: round(cost, 9),
      revenue: round(revenue, 9),
      margin: round(revenue - cost, 9),
      marginRatio: revenue > 0 ? round((revenue - cost) / revenue, 4) : null,
    });
  }
  const byRoute = new Map<
    string,
    {
      method: string;
      route: string;
      requests: number;
      cpuSeconds: number;
      dbSeconds: number;
      bytesOut: number;
    }
  >();
  for (const row of all) {
    const key = `${row.method} ${row.route}`;
    const r = byRoute.get(key) ?? {
      method: row.method,
      route: row.route,
      requests: 0,
      cpuSeconds: 0,
      dbSeconds: 0,
      bytesOut: 0,
    };
    r.requests += row.requests;
    r.cpuSeconds += row.cpuSeconds;
    r.dbSeconds += row.dbSeconds;
    r.bytesOut += row.bytesOut;
    byRoute.set(key, r);
  }
  const routes: RouteCost[] = [...byRoute.values()]
    .map((r) => {
      const c = variableCost(r, prices);
      const cost = c.cpu + c.database + c.egress;
      return {
        ...r,
        cpuSeconds: round(r.cpuSeconds),
        dbSeconds: round(r.dbSeconds),
        cost: round(cost, 9),
        costPer1000Requests: r.requests > 0 ? round((cost / r.requests) * 1000, 9) : 0,
      };
    })
    .sort((a, b) => b.cost - a.cost);
  const unattributedCpu = Math.max(0, snapshot.processCpuSeconds - totalCpu);
  const unattributedCost = (unattributedCpu / 3600) * prices.cpuHour;
  const tenantCost = tenants.reduce((s, t) => s + t.cost.total, 0);
  const revenue = tenants.reduce((s, t) => s + t.revenue, 0);
  return {
    window: {
      from: new Date(snapshot.from).toISOString(),
      to: new Date(snapshot.to).toISOString(),
      seconds: round(seconds, 3),
    },
    currency: prices.currency,
    prices,
    totals: {
      requests: totalRequests,
      cpuSeconds: round(totalCpu),
      dbSeconds: round(sum(all, 'dbSeconds')),
      bytesOut: sum(all, 'bytesOut'),
      processCpuSeconds: round(snapshot.processCpuSeconds),
      attributedCpuRatio: ratio(totalCpu, snapshot.processCpuSeconds),
      cost: round(tenantCost + unattributedCost, 9),
      revenue: round(revenue, 9),
      margin: round(revenue - tenantCost - unattributedCost, 9),
    },
    tenants,
    plans,
    routes,
    unattributed: { cpuSeconds: round(unattributedCpu), cost: round(unattributedCost, 9) },
    method: COST_METHOD,
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * The levers RetailFlow knows for its routes: the catalog cache for catalog reads (its hit ratio now), page size
 * for list responses (their size now), and the statements per checkout. `hitRatio` reads the catalog cache's hit
 * ratio since start (`null` before any lookup).
 *
 * @example
 * ```ts
 * priceCosts(snapshot, prices, revenues, { levers: retailFlowLevers(() => 0.93) });
 * ```
 */
export function retailFlowLevers(hitRatio: () => number | null): readonly LeverRule[] {
  return [
    {
      id: 'catalog-cache',
      applies: (d) => d.route.startsWith('/api/v1/products') && d.mostly !== 'egress',
      advice: () => {
        const r = hitRatio();
        return `Catalog cache (CATALOG_CACHE, 5 s TTL): hit ratio ${r === null ? 'unknown' : `${(r * 100).toFixed(1)}%`}; a miss costs a database read.`;
      },
    },
    {
      id: 'page-size',
      applies: (d) => d.method === 'GET' && d.bytesOutPerRequest > 4096,
      advice: (d) =>
        `Payload size: ${kb(d.bytesOutPerRequest)} per response on ${d.route}; a smaller page (\`limit\`) sends less.`,
    },
    {
      id: 'checkout-statements',
      applies: (d) => d.method === 'POST' && d.route === '/api/v1/orders',
      advice: (d) =>
        `Checkout runs ${d.dbStatementsPerRequest} database statements per request (replays and refusals included); idempotent replays answered from the order cost one read.`,
    },
  ];
}
