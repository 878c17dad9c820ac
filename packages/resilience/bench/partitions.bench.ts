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
 * - a tenant's own limit (`tenantLimit` 3, as RetailFlow's checkouts), refused at once or waited for (`tenantQueue`
 *   3): the cost of a flood over its limit (100 arrivals per iteration, the waiters then time out on a
 *   `ManualClock`), and, simulated on a `ManualClock` (seeded arrivals, every call holds its permit for 80 ms),
 *   the share of a quiet tenant's calls admitted when it sends 30 a second (2.4 in flight on average, bursts over
 *   3) while another sends 200 a second.
 */
import { ManualClock, type Priority } from '@ballast/core';
import { ConcurrencyLimiter, type ConcurrencyLimiterOptions, type LimiterPermit } from '@ballast/resilience';
import type { BenchResult } from '@ballast/testkit';
import { row, seededRandom } from '@ballast/testkit';
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

/** A tenant's checkouts limited to 3 at once, beyond which they are refused at once (as RetailFlow's front door). */
const TENANT_LIMITED: Partial<ConcurrencyLimiterOptions> = {
  partitions: {
    classes: { critical: 0.5, default: 0.2, sheddable: 0.3 },
    tenants: true,
    tenantLimit: { critical: 3 },
  },
  queue: { maxSize: 50, targetMs: 5, intervalMs: 100 },
};
/** The same, and 3 more may wait (at most 100 ms) for one of the tenant's own places. */
const TENANT_QUEUED: Partial<ConcurrencyLimiterOptions> = {
  ...TENANT_LIMITED,
  partitions: { ...TENANT_LIMITED.partitions, tenantQueue: { critical: 3 } },
};

/** A tenant holding its 3 places, then 100 more arrivals of it per call; waiters time out at the end of each. */
function overTenantLimit(options: Partial<ConcurrencyLimiterOptions>): () => Promise<void> {
  const clock = new ManualClock(0);
  const l = new ConcurrencyLimiter({ algorithm: fixed(64), clock, ...options });
  for (let i = 0; i < 3; i++) l.tryAcquire('critical', 'flood');
  const refused = (): undefined => undefined;
  return async () => {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < BATCH; i++) calls.push(l.acquire('critical', 'flood').catch(refused));
    clock.advance(100);
    await Promise.all(calls);
  };
}

/**
 * Share of a quiet tenant's calls admitted over 20 simulated seconds: it sends 30 a second, another 200, seeded
 * arrivals each millisecond, every admitted call holds its permit for 80 ms.
 */
async function quietAdmitted(options: Partial<ConcurrencyLimiterOptions>): Promise<number> {
  const clock = new ManualClock(0);
  const l = new ConcurrencyLimiter({ algorithm: fixed(64), clock, ...options });
  const random = seededRandom(7);
  let offered = 0;
  let admitted = 0;
  const arrive = (tenant: string) => {
    const quiet = tenant === 'quiet';
    if (quiet) offered++;
    l.acquire('critical', tenant).then(
      (permit) => {
        if (quiet) admitted++;
        clock.setTimeout(() => permit.success(), 80);
      },
      () => undefined,
    );
  };
  for (let ms = 0; ms < 20_000; ms++) {
    if (random() < 0.03) arrive('quiet');
    if (random() < 0.2) arrive('flood');
    await clock.advanceAsync(1);
  }
  await clock.advanceAsync(200);
  return admitted / offered;
}

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
      {
        name: 'tenant over its limit: 100 arrivals refused at once',
        batch: BATCH,
        fn: overTenantLimit(TENANT_LIMITED),
      },
      {
        name: 'tenant over its limit, tenantQueue 3: 100 arrivals (3 wait)',
        batch: BATCH,
        fn: overTenantLimit(TENANT_QUEUED),
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
  const quietRefusedAtOnce = await quietAdmitted(TENANT_LIMITED);
  const quietWaiting = await quietAdmitted(TENANT_QUEUED);
  console.log(
    `a quiet tenant's calls admitted (30/s, 80 ms each, limit 3) while another sends 200/s: refused at once ` +
      `${(quietRefusedAtOnce * 100).toFixed(1)}%, tenantQueue 3 ${(quietWaiting * 100).toFixed(1)}%`,
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
      tenant_queue_flood_cost_vs_refusal:
        row(results, 'tenant over its limit, tenantQueue 3: 100 arrivals (3 wait)').medianNs /
        row(results, 'tenant over its limit: 100 arrivals refused at once').medianNs,
      quiet_tenant_admitted_limit_refused_at_once: quietRefusedAtOnce,
      quiet_tenant_admitted_limit_tenant_queue: quietWaiting,
    },
  };
}
