import { Counter } from 'prom-client';
import type { MetricsRegistry } from '@ballast/telemetry';
import type { Clock } from '@ballast/core';

/** What one request used, as attribution measured it. */
export interface CostSample {
  /** The authenticated tenant; `undefined` for a request no tenant authenticated (a 401, a health check). */
  readonly tenant: string | undefined;
  readonly method: string;
  /** The route template, as RED metrics label it (`/api/v1/orders/:orderId`). */
  readonly route: string;
  /** On-thread time of the request's JavaScript, in seconds (scaled by 1 / the sample rate when sampled). */
  readonly cpuSeconds: number;
  /** Time in database statements, in seconds. */
  readonly dbSeconds: number;
  readonly dbStatements: number;
  /** Request and response body bytes. */
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The usage of one tenant on one route, summed. */
export interface CostRow {
  readonly tenant: string;
  readonly method: string;
  readonly route: string;
  requests: number;
  cpuSeconds: number;
  dbSeconds: number;
  dbStatements: number;
  bytesIn: number;
  bytesOut: number;
}

/** Everything the meter holds, and over which window. */
export interface CostSnapshot {
  /** Epoch ms of the meter's start and of this snapshot. */
  readonly from: number;
  readonly to: number;
  readonly rows: readonly CostRow[];
  /** The process's own CPU time (user + system) over the window, in seconds: what attribution is compared with. */
  readonly processCpuSeconds: number;
}

/** The tenant label of requests no tenant authenticated. */
export const NO_TENANT = '__none__';
/** The tenant label of tenants beyond {@link CostMeterOptions.maxTenants}. */
export const OTHER_TENANTS = '__other__';

/** Options of {@link CostMeter}. */
export interface CostMeterOptions {
  readonly clock: Clock;
  /**
   * Tenants labelled by id, in order of first request; later ones are summed under `__other__`, so a flood of
   * tenants cannot flood Prometheus with series. @default 200
   */
  readonly maxTenants?: number;
  /** Registry to expose the `retailflow_cost_*` counters on. @default none */
  readonly registry?: MetricsRegistry['prom'];
  /** The process's CPU time in µs (user + system). @default process.cpuUsage */
  readonly processCpuMicros?: () => number;
}

const processCpu = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};

/**
 * Sums per-request usage by tenant and route, in memory (for `GET /admin/cost`) and as Prometheus counters:
 * `retailflow_cost_requests_total`, `retailflow_cost_cpu_seconds_total`, `retailflow_cost_db_seconds_total`,
 * `retailflow_cost_bytes_total{direction}`, each with `tenant`, `method` and `route`. Series are bounded: at most
 * `maxTenants` tenants (plus `__other__` and `__none__`) times the routes the service has.
 *
 * @example
 * ```ts
 * const meter = new CostMeter({ clock: systemClock, registry: metrics.prom });
 * meter.record({ tenant: 'acme', method: 'GET', route: '/api/v1/products', cpuSeconds: 0.0004, dbSeconds: 0.001,
 *   dbStatements: 1, bytesIn: 0, bytesOut: 2048 });
 * ```
 */
export class CostMeter {
  readonly #clock: Clock;
  readonly #maxTenants: number;
  readonly #rows = new Map<string, CostRow>();
  readonly #tenants = new Set<string>();
  readonly #cpu: () => number;
  #from: number;
  #cpuAtStart: number;
  readonly #counters:
    | {
        readonly requests: Counter;
        readonly cpu: Counter;
        readonly db: Counter;
        readonly bytes: Counter;
      }
    | undefined;

  constructor(options: CostMeterOptions) {
    this.#clock = options.clock;
    const max = options.maxTenants ?? 200;
    if (!Number.isInteger(max) || max < 0) {
      throw new TypeError(`Expected \`maxTenants\` to be an integer >= 0, got \`${String(max)}\``);
    }
    this.#maxTenants = max;
    this.#cpu = options.processCpuMicros ?? processCpu;
    this.#from = this.#clock.now();
    this.#cpuAtStart = this.#cpu();
    const registry = options.registry;
    if (registry) {
      const labelNames = ['tenant', 'method', 'route'] as const;
      this.#counters = {
        requests: new Counter({
          name: 'retailflow_cost_requests_total',
          help: 'Requests attributed to a tenant and route by cost attribution.',
          labelNames,
          registers: [registry],
        }),
        cpu: new Counter({
          name: 'retailflow_cost_cpu_seconds_total',
          help: "On-thread time of requests' JavaScript, by tenant and route (sampled requests scaled up).",
          labelNames,
          registers: [registry],
        }),
        db: new Counter({
          name: 'retailflow_cost_db_seconds_total',
          help: 'Time in database statements, by tenant and route.',
          labelNames,
          registers: [registry],
        }),
        bytes: new Counter({
          name: 'retailflow_cost_bytes_total',
          help: 'Request (in) and response (out) body bytes, by tenant and route.',
          labelNames: [...labelNames, 'direction'],
          registers: [registry],
        }),
      };
    }
  }

  /** The label a tenant is counted under (its id, `__other__` past the bound, `__none__` without one). */
  tenantLabel(tenant: string | undefined): string {
    if (tenant === undefined) return NO_TENANT;
    if (this.#tenants.has(tenant)) return tenant;
    if (this.#tenants.size < this.#maxTenants) {
      this.#tenants.add(tenant);
      return tenant;
    }
    return OTHER_TENANTS;
  }

  /** Adds one request's usage. */
  record(sample: CostSample): void {
    const tenant = this.tenantLabel(sample.tenant);
    const key = `${tenant}\u0000${sample.method}\u0000${sample.route}`;
    let row = this.#rows.get(key);
    if (!row) {
      row = {
        tenant,
        method: sample.method,
        route: sample.route,
        requests: 0,
        cpuSeconds: 0,
        dbSeconds: 0,
        dbStatements: 0,
        bytesIn: 0,
        bytesOut: 0,
      };
      this.#rows.set(key, row);
    }
    row.requests++;
    row.cpuSeconds += sample.cpuSeconds;
    row.dbSeconds += sample.dbSeconds;
    row.dbStatements += sample.dbStatements;
    row.bytesIn += sample.bytesIn;
    row.bytesOut += sample.bytesOut;
    const counters = this.#counters;
    if (counters) {
      const labels = { tenant, method: sample.method, route: sample.route };
      counters.requests.inc(labels);
      if (sample.cpuSeconds > 0) counters.cpu.inc(labels, sample.cpuSeconds);
      if (sample.dbSeconds > 0) counters.db.inc(labels, sample.dbSeconds);
      if (sample.bytesIn > 0) counters.bytes.inc({ ...labels, direction: 'in' }, sample.bytesIn);
      if (sample.bytesOut > 0) counters.bytes.inc({ ...labels, direction: 'out' }, sample.bytesOut);
    }
  }

  /** A copy of the rows and the window they cover. */
  snapshot(): CostSnapshot {
    return {
      from: this.#from,
      to: this.#clock.now(),
      rows: [...this.#rows.values()].map((row) => ({ ...row })),
      processCpuSeconds: Math.max(0, this.#cpu() - this.#cpuAtStart) / 1e6,
    };
  }

  /** Starts a new window: the in-memory rows are cleared (the Prometheus counters keep counting). */
  reset(): void {
    this.#rows.clear();
    this.#from = this.#clock.now();
    this.#cpuAtStart = this.#cpu();
  }
}
