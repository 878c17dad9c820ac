/**
 * Partitioned shares against the nested caps of the same `ConcurrencyLimiter`, on two counts:
 *
 * - cost: 100 `tryAcquire` + `success` pairs per iteration on a limiter of 64 that is nearly full (a mix of the three
 *   classes, so both the admitting and the refusing paths run), nested shares vs partitions vs partitions per
 *   tenant (8 tenants), and per tenant with the critical class capped (`maxInFlight`, as RetailFlow's front door);
 *   three alternating rounds, ratios of the median time per iteration.
 * - what each admits: a deterministic simulation on a `ManualClock` (no wall time): a limit of 100, every call
 *   holds its permit for 5 ticks, each tick a burst of 40 sheddable calls arrives (a flood) ahead of 4 default and 8
 *   critical ones, for 2,000 ticks, no queue. The share of critical calls admitted, and for tenants the share of a quiet tenant's calls
 *   admitted while another floods the same class, are reported as ratios.
 */
import { ManualClock, type Priority } from '@ballast/core';
import { ConcurrencyLimiter, type ConcurrencyLimiterOptions, type LimiterPermit } from '@ballast/resilience';
import type { BenchResult } from '@ballast/testkit';
import { row } from '@ballast/testkit';
import { measureInRounds } from './limiter-rounds.js';

const BATCH = 100;
const fixed = (limit: number) => ({ limit, update: () => limit });

function limiter(options: Partial<ConcurrencyLimiterOptions>, limit: number): ConcurrencyLimiter {
  return new ConcurrencyLimiter({
    algorithm: fixed(limit),
    queue: false,
    clock: new ManualClock(0),
    ...options,
  });
}

const NESTED: Partial<ConcurrencyLimiterOptions> = { shares: { sheddable: 0.8, default: 0.9 } };
const PARTITIONED: Partial<ConcurrencyLimiterOptions> = {
  partitions: { classes: { critical: 0.5, default: 0.2, sheddable: 0.3 } },
};
const PER_TENANT: Partial<ConcurrencyLimiterOptions> = {
  partitions: { classes: { critical: 0.5, default: 0.2, sheddable: 0.3 }, tenants: true },
};
/** RetailFlow's front door: per tenant, and critical calls capped (`maxInFlight`) below what the limit allows. */
const PER_TENANT_CAPPED: Partial<ConcurrencyLimiterOptions> = {
  partitions: {
    classes: { critical: 0.5, default: 0.2, sheddable: 0.3 },
    tenants: true,
    maxInFlight: { critical: 12 },
  },
};

const CLASSES: readonly Priority[] = ['sheddable', 'sheddable', 'default', 'critical'];

/** A limiter kept nearly full: 60 of 64 permits held, then 100 acquire/release pairs. */
function churn(l: ConcurrencyLimiter, tenants: number): () => void {
  for (let i = 0; i < 60; i++) l.tryAcquire(CLASSES[i % CLASSES.length], `t${i % Math.max(1, tenants)}`);
  let n = 0;
  return () => {
    for (let i = 0; i < BATCH; i++, n++) {
      const tenant = tenants === 0 ? undefined : `t${n % tenants}`;
      l.tryAcquire(CLASSES[n % CLASSES.length], tenant)?.success();
    }
  };
}

interface Arrival {
  readonly priority: Priority;
  readonly tenant: string;
  readonly count: number;
}

/** Share of each arrival stream admitted over the simulation. */
function simulate(options: Partial<ConcurrencyLimiterOptions>, arrivals: readonly Arrival[]): number[] {
  const l = limiter(options, 100);
  const holding: LimiterPermit[][] = Array.from({ length: 5 }, () => []);
  const admitted = arrivals.map(() => 0);
  const offered = arrivals.map(() => 0);
  for (let tick = 0; tick < 2000; tick++) {
    for (const permit of holding[tick % 5]!) permit.success();
    holding[tick % 5] = [];
    // The flood arrives first each tick (a burst), then the other streams.
    arrivals.forEach((a, i) => {
      for (let k = 0; k < a.count; k++) {
        offered[i]!++;
        const permit = l.tryAcquire(a.priority, a.tenant);
        if (permit) {
          admitted[i]!++;
          holding[tick % 5]!.push(permit);
        }
      }
    });
  }
  return admitted.map((n, i) => n / offered[i]!);
}

export async function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const results = await measureInRounds(
    [
      {
        name: 'nested shares: 100 acquire/release, nearly full',
        batch: BATCH,
        fn: churn(limiter(NESTED, 64), 0),
      },
      {
        name: 'partitions: 100 acquire/release, nearly full',
        batch: BATCH,
        fn: churn(limiter(PARTITIONED, 64), 0),
      },
      {
        name: 'partitions per tenant (8): 100 acquire/release, nearly full',
        batch: BATCH,
        fn: churn(limiter(PER_TENANT, 64), 8),
      },
      {
        name: 'per tenant (8), critical capped at 12: 100 acquire/release',
        batch: BATCH,
        fn: churn(limiter(PER_TENANT_CAPPED, 64), 8),
      },
    ],
    3,
    250,
  );

  const flood: Arrival[] = [
    { priority: 'sheddable', tenant: 'a', count: 40 },
    { priority: 'default', tenant: 'a', count: 4 },
    { priority: 'critical', tenant: 'a', count: 8 },
  ];
  const [, , nestedCritical] = simulate(NESTED, flood);
  const [, , partitionedCritical] = simulate(PARTITIONED, flood);
  const tenants: Arrival[] = [
    { priority: 'critical', tenant: 'flood', count: 40 },
    { priority: 'critical', tenant: 'quiet', count: 4 },
  ];
  const [, nestedQuiet] = simulate(NESTED, tenants);
  const [, tenantQuiet] = simulate(PER_TENANT, tenants);
  console.log(
    `critical calls admitted under a sheddable flood: nested ${(nestedCritical! * 100).toFixed(1)}%, ` +
      `partitioned ${(partitionedCritical! * 100).toFixed(1)}%; a quiet tenant's calls admitted while another floods: ` +
      `nested ${(nestedQuiet! * 100).toFixed(1)}%, per tenant ${(tenantQuiet! * 100).toFixed(1)}%`,
  );
  const nested = row(results, 'nested shares: 100 acquire/release, nearly full').medianNs;
  return {
    results,
    ratios: {
      partitions_cost_vs_nested:
        row(results, 'partitions: 100 acquire/release, nearly full').medianNs / nested,
      partitions_per_tenant_cost_vs_nested:
        row(results, 'partitions per tenant (8): 100 acquire/release, nearly full').medianNs / nested,
      critical_capped_cost_vs_per_tenant:
        row(results, 'per tenant (8), critical capped at 12: 100 acquire/release').medianNs /
        row(results, 'partitions per tenant (8): 100 acquire/release, nearly full').medianNs,
      critical_admitted_nested: nestedCritical!,
      critical_admitted_partitioned: partitionedCritical!,
      quiet_tenant_admitted_nested: nestedQuiet!,
      quiet_tenant_admitted_per_tenant: tenantQuiet!,
    },
  };
}
