import os from 'node:os';
import { percentile, runClosedLoop, runLoad, type RunResult } from './load.js';
import { onInterrupt } from './interrupt.js';
import { brokerPid, Pinning, postmasterPid, redisPid } from './pinning.js';
import { KEYS, scrape, sleep, startPaymentProvider, startService, sum, type Sample, type ServiceProcess } from './service.js';

/** How the service protects itself at ingress during an overload run. */
export type SheddingMode = 'ballast' | 'none' | 'toobusy';

/** One point of the closed-loop ramp. */
export interface RampPoint {
  readonly connections: number;
  readonly goodputRps: number;
  readonly p99: number;
  /** Share of answers that were refusals (503, 429) or errors. */
  readonly refusedShare: number;
  /** Whether the point may set the capacity: the service still answered nearly everything (see REFUSED_AT_MOST). */
  readonly counts: boolean;
}

/** One open-loop run at a multiple of capacity. */
export interface OverloadPoint {
  readonly mode: SheddingMode;
  readonly multiple: number;
  readonly offeredRps: number;
  readonly goodputRps: number;
  readonly goodputOfCapacity: number;
  readonly p50: number;
  readonly p99: number;
  readonly criticalServed: number;
  readonly sheddableServed: number;
  /** Goodput of each class: checkouts and catalog reads answered 2xx within the deadline, per second. */
  readonly criticalGoodputRps: number;
  readonly sheddableGoodputRps: number;
  readonly statuses: Record<string, number>;
  /** The service process's CPU over the step, in cores (`process_cpu_seconds_total`; pinned, at most about 1). */
  readonly cpuCores: number;
}

/**
 * Where the service's CPU went at the highest multiple, in cores: the checkouts and reads it served, priced at what
 * each cost alone ({@link OverloadResult.perClass}), and the rest: refusals, requests that waited and timed out,
 * and whatever serving costs more under load than alone (collection of more garbage, more sockets).
 */
export interface CpuAtTop {
  readonly cores: number;
  readonly checkouts: number;
  readonly reads: number;
  readonly rest: number;
  /** Requests answered 503 or 429 per second. */
  readonly refusedRps: number;
  /** `rest` over the refusals: the CPU of a refusal if the rest were all refusals, in microseconds. */
  readonly restPerRefusalUs: number;
}

/** A goal as the gate reads it. */
export interface Goal {
  readonly value: number;
  readonly goal: number;
  readonly met: boolean;
}

/** What one measurement (ramp, classes alone, every mode, the tenant flood) found, reduced to the goals' figures. */
export interface OverloadRunFigures {
  readonly pinned: boolean;
  readonly capacityRps: number;
  /**
   * Checkouts served alone: the mean of the two measurements that bracket Ballast's steps (before them, on the
   * service that found capacity; after them, on the first baseline's service), or the first alone when the run has
   * no baseline without shedding.
   */
  readonly checkoutsAloneRps: number;
  /**
   * The second checkouts-alone measurement over the first, minus 1: how far the machine's speed moved while Ballast's
   * steps ran (NaN without a second measurement). Two-core machines shared with databases drift by tens of percent in
   * a minute; a ratio against one measurement taken earlier carries that drift.
   */
  readonly aloneDrift: number;
  readonly readsAloneRps: number;
  /** Ballast's critical goodput at the highest multiple, over the checkouts served alone. */
  readonly criticalOfAlone: number;
  /**
   * Goodput weighted by each class's measured cost (a checkout counts 1/checkoutsAloneRps of capacity, a read
   * 1/readsAloneRps): the share of the service's capacity spent on useful answers, per mode at the highest multiple.
   */
  readonly costWeighted: Readonly<Partial<Record<SheddingMode, number>>>;
  /** Ballast's lowest share of sheddable requests served at a multiple of 1 or less. */
  readonly sheddableServedAtMost1x: number;
  /** p99 of Ballast's admitted checkouts at the highest multiple, and unloaded (0.2x). */
  readonly criticalP99: number;
  readonly unloadedCriticalP99: number;
  /** Ballast's critical and sheddable shares served at the highest multiple. */
  readonly criticalServed: number;
  readonly sheddableServed: number;
  /** A tenant within its plan: its checkout goodput while another tenant floods, over its goodput alone. */
  readonly tenantFairness: number;
  /** The service's CPU (cores) while it served checkouts alone, and where it went under Ballast at the highest multiple. */
  readonly checkoutsAloneCores: number;
  /** p99 of the checkouts served alone (closed loop at the knee, at least 8 connections). */
  readonly checkoutsAloneP99: number;
  readonly cpuAtTop?: CpuAtTop;
}

/** Median and spread of one figure over repeated runs. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/**
 * Each class alone, closed loop at the knee (at least 8 connections): its goodput, the CPU (ms) the service spent per
 * request answered 2xx, and the CPU it used in all (cores).
 */
export interface PerClass {
  readonly checkoutsRps: number;
  readonly readsRps: number;
  readonly checkoutCostInReads: number;
  readonly checkoutCpuMs: number;
  readonly readCpuMs: number;
  readonly checkoutsCores: number;
  readonly readsCores: number;
  /** p99 of the checkouts served alone: the latency at the rate the critical goodput goal asks for at 4x. */
  readonly checkoutsP99: number;
}

/** Everything the overload scenario measured. */
export interface OverloadResult {
  /** The first pinned run (or the first run) in full: its ramp, capacity and points feed the tables and charts. */
  readonly ramp: RampPoint[];
  readonly capacityRps: number;
  readonly kneeConnections: number;
  readonly unloadedP99: number;
  /**
   * Each class alone, closed loop at the knee (at least 8 connections): what the service serves of checkouts only and
   * of catalog reads only, and so what a checkout costs in reads.
   */
  readonly perClass: PerClass;
  readonly points: OverloadPoint[];
  /** How the runs were pinned (service on one CPU, load generator and PostgreSQL on the other), or why not. */
  readonly pinning: readonly string[];
  /** Every run's figures, pinned and unpinned. */
  readonly runs: readonly OverloadRunFigures[];
  /** Median and spread of each figure, pinned and unpinned. */
  readonly summary: Readonly<Record<'pinned' | 'unpinned', Readonly<Record<string, Spread>>>>;
  /** The goals, on the medians of the pinned runs (of the unpinned ones where pinning is unavailable). */
  readonly goals: {
    readonly criticalGoodputAt4x: Goal;
    readonly costWeightedGoodputAt4x: Goal & { readonly baselines: Readonly<Partial<Record<SheddingMode, number>>> };
    readonly sheddableServedAt1x: Goal;
    readonly p99At4x: Goal;
    readonly tenantFairness: Goal;
    readonly criticalFirst: Goal;
  };
}

/** Knobs of the overload scenario (shorter in `--quick`). */
export interface OverloadOptions {
  readonly rampConnections: readonly number[];
  readonly rampSec: number;
  readonly stepSec: number;
  /** Closed-loop warm-up (JIT, caches) of each fresh service before it is measured, in seconds. */
  readonly warmSec: number;
  readonly modes: readonly SheddingMode[];
  /** Multiples of capacity offered to Ballast. */
  readonly multiples: readonly number[];
  /** Multiples offered to the baselines (`none`, `toobusy`). @default multiples */
  readonly baselineMultiples?: readonly number[];
  /** Runs pinned (when the machine allows it) and unpinned. */
  readonly repeats: { readonly pinned: number; readonly unpinned: number };
  /** PostgreSQL's URL, to pin its postmaster with the load generator. */
  readonly databaseUrl?: string;
  /** Whether each run ends with the tenant flood (fairness). @default true */
  readonly tenantFlood?: boolean;
  readonly env: Record<string, string>;
  readonly log: (line: string) => void;
}

function served(r: RunResult, cls: 'critical' | 'sheddable'): number {
  const c = r.classes[cls];
  return c.sent === 0 ? 0 : c.ok / c.sent;
}

function merge(r: RunResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of Object.values(r.classes)) for (const [k, v] of Object.entries(c.statuses)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const CONNECTIONS = 512;

/**
 * Warms a fresh service (JIT, caches, pool connections) with a closed loop, again until it has answered a request
 * well (at most five rounds): on a busy machine a fresh process may not answer anything within one round.
 */
async function warm(url: string, warmSec: number): Promise<void> {
  for (let round = 0; round < 5; round++) {
    if ((await runClosedLoop(url, 8, warmSec)).goodputRps > 0) return;
  }
}

/**
 * A ramp point sets the capacity only while the service answers nearly everything: past the knee, a service with
 * a bulkhead refuses checkouts in a millisecond, each closed-loop connection then cycles through cheap catalog reads
 * instead, and "goodput" climbs while the service serves less of what it is asked.
 */
const REFUSED_AT_MOST = 0.01;

/**
 * Refusals per policy and reason (`ballast_policy_rejections_total`), as `policy/reason` → count, and what each
 * limiter shed per priority class (`ballast_load_shed_total`), as `policy/shed priority`.
 */
function rejections(samples: readonly Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    // What the limiters shed, per priority class, tells a checkout refused at the door from a read.
    const key =
      s.name === 'ballast_policy_rejections_total'
        ? `${s.labels.policy ?? '?'}/${s.labels.reason ?? '?'}`
        : s.name === 'ballast_load_shed_total'
          ? `${s.labels.policy ?? '?'}/shed ${s.labels.priority ?? '?'}`
          : undefined;
    if (key === undefined) continue;
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/**
 * Which policy refused what during one load step: the growth of `ballast_policy_rejections_total` between two
 * scrapes, e.g. `ingress/shed 120, inventory-bulkhead/bulkhead-full 24`; empty when nothing refused. A 503 body says
 * only "overloaded" (what a client can act on), so this is how the proof tells the front door from the bulkhead.
 */
async function refusedBy(opsUrl: string, before: Map<string, number>): Promise<[string, Map<string, number>]> {
  const after = rejections(await scrape(opsUrl).catch(() => []));
  const parts: string[] = [];
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) parts.push(`${key} ${delta}`);
  }
  return [parts.join(', '), after];
}

/**
 * Finds capacity with a closed-loop ramp on the service without shedding (goodput per connection count; capacity is
 * the best goodput of the points where at most 1% of answers were refusals, the knee the fewest connections
 * reaching 95% of it), measures the unloaded p99 at a fifth of capacity, then offers 1x,
 * 2x and 4x capacity open loop for a fixed time in each shedding mode, each mode on a fresh service process.
 */
interface OneRun {
  readonly ramp: RampPoint[];
  readonly capacityRps: number;
  readonly kneeConnections: number;
  readonly unloadedP99: number;
  readonly perClass: PerClass;
  readonly points: OverloadPoint[];
  readonly figures: OverloadRunFigures;
}

/**
 * The service process's CPU between now and a later call, from its `process_cpu_seconds_total` (every thread:
 * the event loop, garbage collection, the libuv pool), in cores: NaN when a scrape fails.
 */
async function cpuMeter(opsUrl: string): Promise<{ cores: (since: number) => Promise<number> }> {
  const read = async () => sum(await scrape(opsUrl).catch(() => []), 'process_cpu_seconds_total');
  const before = await read();
  return {
    cores: async (since) => {
      const after = await read();
      const sec = (performance.now() - since) / 1000;
      return after > 0 && before > 0 && sec > 0 ? (after - before) / sec : Number.NaN;
    },
  };
}

/** What the closed-loop ramp and each class alone found on a service without shedding. */
interface Capacity {
  readonly ramp: RampPoint[];
  readonly capacityRps: number;
  readonly kneeConnections: number;
  readonly perClass: PerClass;
}

/**
 * Closed-loop connections for a class alone: the mix's knee, and at least 8 (at fewer, a checkout's round trips leave
 * the service idle between them: 95 checkouts/s at 2 connections, on 0.60 cores, where 8 served 127 on 0.76).
 */
function aloneConnections(kneeConnections: number): number {
  return Math.max(8, kneeConnections);
}

/** Open-loop steps that check the ramp's capacity, each a tenth below the one before. */
const CAPACITY_CHECKS = 4;

/**
 * The rate `service` (without shedding) serves open loop: the closed-loop ramp's figure, lowered by a tenth until an
 * open-loop step at it has 99% of its requests answered 2xx. A closed loop never holds more requests in flight than
 * it has connections; open loop at the same rate, arrivals bunch, checkouts pile up past the inventory bulkhead's
 * places and are refused. Offered as "1x", the ramp's figure alone was past what the service serves: on 2026-12-07,
 * the service without shedding answered 70-97% of the checkouts offered at it (4 runs), so "no shedding at 1x" was
 * judged where the service was already refusing.
 */
async function openLoopCapacity(
  opts: Pick<OverloadOptions, 'rampSec' | 'log'>,
  service: ServiceProcess,
  rampCapacityRps: number,
): Promise<number> {
  let rate = rampCapacityRps;
  for (let check = 1; check <= CAPACITY_CHECKS; check++) {
    const r = await runLoad({ url: service.url, durationSec: opts.rampSec, rate, connections: CONNECTIONS });
    const sent = r.classes.critical.sent + r.classes.sheddable.sent;
    const answered = sent === 0 ? 0 : (r.classes.critical.ok + r.classes.sheddable.ok) / sent;
    const holds = answered >= 1 - REFUSED_AT_MOST;
    opts.log(
      `  open loop at ${rate.toFixed(0)} req/s: ${(answered * 100).toFixed(1)}% answered 2xx ` +
        `(checkouts ${(served(r, 'critical') * 100).toFixed(0)}%, reads ${(served(r, 'sheddable') * 100).toFixed(0)}%)` +
        (holds ? '' : check < CAPACITY_CHECKS ? ': a tenth lower' : ''),
    );
    if (holds) return rate;
    rate *= 0.9;
  }
  opts.log(`  no open-loop check held: capacity ${rate.toFixed(0)} req/s, a tenth below the last`);
  return rate;
}

/**
 * Capacity of `service` (started without shedding): the closed-loop ramp checked open loop (`openLoopCapacity`),
 * then checkouts alone and reads alone (see `aloneConnections`). The tenant-flood runner (`tenant-flood.ts`) measures its rates the same way.
 */
export async function measureCapacity(
  opts: Pick<OverloadOptions, 'warmSec' | 'rampConnections' | 'rampSec' | 'log'>,
  service: ServiceProcess,
): Promise<Capacity> {
  // Warm the JIT and the caches before measuring anything.
  await warm(service.url, opts.warmSec);
  const ramp: RampPoint[] = [];
  for (const connections of opts.rampConnections) {
    const r = await runClosedLoop(service.url, connections, opts.rampSec);
    const answered = Object.values(r.statuses).reduce((a, b) => a + b, 0);
    const refused = (r.statuses['503'] ?? 0) + (r.statuses['429'] ?? 0) + (r.statuses.error ?? 0);
    const refusedShare = answered === 0 ? 1 : refused / answered;
    ramp.push({ connections, goodputRps: r.goodputRps, p99: r.p99, refusedShare, counts: refusedShare <= REFUSED_AT_MOST });
    opts.log(
      `  ramp ${connections} connections: goodput ${r.goodputRps.toFixed(0)}/s, p99 ${r.p99.toFixed(1)} ms, ` +
        `refused ${(refusedShare * 100).toFixed(1)}%${refusedShare <= REFUSED_AT_MOST ? '' : ' (past capacity: not counted)'}`,
    );
    // Past capacity once a counted point was seen: more connections only refuse more.
    if (refusedShare > REFUSED_AT_MOST && ramp.some((p) => p.counts)) break;
  }
  const counted = ramp.filter((p) => p.counts);
  if (counted.length === 0) opts.log('  no ramp point answered 99% of its requests: capacity is the best goodput of the ramp');
  const rampCapacityRps = Math.max(...(counted.length > 0 ? counted : ramp).map((p) => p.goodputRps));
  const kneeConnections = ramp.find((p) => p.goodputRps >= 0.95 * rampCapacityRps)?.connections ?? 0;
  const capacityRps = await openLoopCapacity(opts, service, rampCapacityRps);
  // Each class alone, on the same service: what a checkout costs, in reads.
  const connections = aloneConnections(kneeConnections);
  const alone = async (mix: 'checkouts' | 'reads') => {
    const cpu = await cpuMeter(service.opsUrl);
    const t0 = performance.now();
    const r = await runClosedLoop(service.url, connections, opts.rampSec, 1000, mix);
    const cores = await cpu.cores(t0);
    return { ...r, cores, cpuMs: r.ok > 0 ? (cores * (performance.now() - t0)) / r.ok : Number.NaN };
  };
  const checkouts = await alone('checkouts');
  const reads = await alone('reads');
  const perClass: PerClass = {
    checkoutsRps: checkouts.goodputRps,
    readsRps: reads.goodputRps,
    checkoutCostInReads: checkouts.goodputRps > 0 ? reads.goodputRps / checkouts.goodputRps : Number.NaN,
    checkoutCpuMs: checkouts.cpuMs,
    readCpuMs: reads.cpuMs,
    checkoutsCores: checkouts.cores,
    readsCores: reads.cores,
    checkoutsP99: checkouts.p99,
  };
  opts.log(
    `  alone at ${connections} connections: ${perClass.checkoutsRps.toFixed(0)} checkouts/s, ` +
      `${perClass.readsRps.toFixed(0)} reads/s (a checkout costs ${perClass.checkoutCostInReads.toFixed(1)} reads); ` +
      `checkout p99 ${perClass.checkoutsP99.toFixed(0)} ms; CPU ${perClass.checkoutCpuMs.toFixed(2)} ms a checkout (${perClass.checkoutsCores.toFixed(2)} cores), ` +
      `${perClass.readCpuMs.toFixed(3)} ms a read (${perClass.readsCores.toFixed(2)} cores)`,
  );
  opts.log(
    `  capacity ${capacityRps.toFixed(0)} req/s (the ramp's ${rampCapacityRps.toFixed(0)}, knee at ${kneeConnections} connections)`,
  );
  return { ramp, capacityRps, kneeConnections, perClass };
}

/**
 * Checkouts alone, as the goals divide by it: measured `before` Ballast's steps and `after` them (NaN when not
 * measured), the mean of the two, and how far the second moved from the first (`drift`, NaN without a second). The
 * machine's speed moves within a run (docs/decisions/overload-measurement.md): one measurement alone would put the
 * drift into the ratio.
 */
export function bracketedAlone(before: number, after: number): { rps: number; drift: number } {
  if (!(after > 0)) return { rps: before, drift: Number.NaN };
  return { rps: (before + after) / 2, drift: before > 0 ? after / before - 1 : Number.NaN };
}

async function overloadRun(opts: OverloadOptions, pinned: boolean, pin: (service: ServiceProcess) => Promise<void>): Promise<OneRun> {
  // One tenant sends every checkout of this mix: its share of the ingress and of the bulkhead would be the limit
  // measured, not shedding. Fairness between tenants is the hostile section's noisy-neighbour scenario.
  const start = (mode: SheddingMode): Promise<ServiceProcess> =>
    startService({ TENANT_INVENTORY_SHARE: '1', ...opts.env, LOAD_SHEDDING: mode }, { fresh: true }).then(
      async (service) => {
        await pin(service);
        return service;
      },
    );
  // Capacity is the service's own, without any shedding in the way.
  let service = await start('none');
  let measured: Capacity;
  try {
    measured = await measureCapacity(opts, service);
  } finally {
    await service.stop();
  }
  const { ramp, capacityRps, kneeConnections, perClass } = measured;
  // Checkouts alone again after Ballast's steps (see OverloadRunFigures.checkoutsAloneRps).
  let checkoutsAgainRps = Number.NaN;

  const points: OverloadPoint[] = [];
  let unloadedP99 = Number.NaN;
  let unloadedCriticalP99 = Number.NaN;
  let criticalP99 = Number.NaN;
  let cpuAtTop: CpuAtTop | undefined;
  const top = Math.max(...opts.multiples);
  for (const mode of opts.modes) {
    service = await start(mode);
    try {
      await warm(service.url, opts.warmSec);
      if (mode === 'ballast') {
        const r = await runLoad({ url: service.url, durationSec: opts.stepSec, rate: capacityRps / 5, connections: 64 });
        unloadedP99 = r.p99;
        unloadedCriticalP99 = percentile(r.classes.critical.admittedLatencies, 99);
        opts.log(`  unloaded (0.2x) p99 ${unloadedP99.toFixed(1)} ms (checkouts ${unloadedCriticalP99.toFixed(1)} ms)`);
      }
      const multiples = mode === 'ballast' ? opts.multiples : (opts.baselineMultiples ?? opts.multiples);
      let counted = mode === 'ballast' ? rejections(await scrape(service.opsUrl).catch(() => [])) : new Map<string, number>();
      for (const multiple of multiples) {
        const rate = capacityRps * multiple;
        const cpu = await cpuMeter(service.opsUrl);
        const t0 = performance.now();
        const r = await runLoad({ url: service.url, durationSec: opts.stepSec, rate, connections: CONNECTIONS });
        const cpuCores = await cpu.cores(t0);
        let refusals = '';
        if (mode === 'ballast') [refusals, counted] = await refusedBy(service.opsUrl, counted);
        const point: OverloadPoint = {
          mode,
          multiple,
          offeredRps: rate,
          goodputRps: r.goodputRps,
          goodputOfCapacity: r.goodputRps / capacityRps,
          p50: r.p50,
          p99: r.p99,
          criticalServed: served(r, 'critical'),
          sheddableServed: served(r, 'sheddable'),
          criticalGoodputRps: r.classes.critical.good / r.durationSec,
          sheddableGoodputRps: r.classes.sheddable.good / r.durationSec,
          statuses: merge(r),
          cpuCores,
        };
        points.push(point);
        if (mode === 'ballast' && multiple === top) {
          criticalP99 = percentile(r.classes.critical.admittedLatencies, 99);
          cpuAtTop = cpuOf(r, cpuCores, perClass);
        }
        opts.log(
          `  ${mode} ${multiple}x: goodput ${r.goodputRps.toFixed(0)}/s (${(point.goodputOfCapacity * 100).toFixed(0)}% of capacity), ` +
            `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, critical served ${(point.criticalServed * 100).toFixed(0)}%, ` +
            `sheddable served ${(point.sheddableServed * 100).toFixed(0)}% (checkouts ${point.criticalGoodputRps.toFixed(0)}/s, ` +
            `reads ${point.sheddableGoodputRps.toFixed(0)}/s); CPU ${cpuCores.toFixed(2)} cores; statuses ${JSON.stringify(point.statuses)}` +
            (refusals === '' ? '' : `; refused by ${refusals}`),
        );
      }
      if (mode === 'none' && opts.modes.indexOf('ballast') < opts.modes.indexOf('none')) {
        // Checkouts alone again, on a service as warm as the first (a ramp's worth of load behind it), once the
        // step's backlog has drained: the second bracket around Ballast's steps.
        await sleep(1000);
        const again = await runClosedLoop(service.url, aloneConnections(kneeConnections), opts.rampSec, 1000, 'checkouts');
        checkoutsAgainRps = again.goodputRps;
        opts.log(
          `  checkouts alone again, after Ballast's steps: ${checkoutsAgainRps.toFixed(0)}/s (before them ${perClass.checkoutsRps.toFixed(0)}/s)`,
        );
      }
    } finally {
      await service.stop();
    }
  }
  const fairness =
    opts.tenantFlood === false ? Number.NaN : ((await tenantFlood(opts, perClass.checkoutsRps, pin))?.fairness ?? Number.NaN);
  const ballastTop = points.find((p) => p.mode === 'ballast' && p.multiple === top);
  const { rps: checkoutsAlone, drift: aloneDrift } = bracketedAlone(perClass.checkoutsRps, checkoutsAgainRps);
  const weighted = (p: OverloadPoint | undefined) =>
    p === undefined || !(checkoutsAlone > 0) || !(perClass.readsRps > 0)
      ? Number.NaN
      : p.criticalGoodputRps / checkoutsAlone + p.sheddableGoodputRps / perClass.readsRps;
  const costWeighted: Partial<Record<SheddingMode, number>> = {};
  for (const mode of opts.modes) costWeighted[mode] = weighted(points.find((p) => p.mode === mode && p.multiple === top));
  const low = points.filter((p) => p.mode === 'ballast' && p.multiple <= 1);
  const figures: OverloadRunFigures = {
    pinned,
    capacityRps,
    checkoutsAloneRps: checkoutsAlone,
    aloneDrift,
    readsAloneRps: perClass.readsRps,
    criticalOfAlone: (ballastTop?.criticalGoodputRps ?? 0) / checkoutsAlone,
    costWeighted,
    sheddableServedAtMost1x: low.length === 0 ? Number.NaN : Math.min(...low.map((p) => p.sheddableServed)),
    criticalP99,
    unloadedCriticalP99,
    criticalServed: ballastTop?.criticalServed ?? 0,
    sheddableServed: ballastTop?.sheddableServed ?? 0,
    tenantFairness: fairness,
    checkoutsAloneCores: perClass.checkoutsCores,
    checkoutsAloneP99: perClass.checkoutsP99,
    ...(cpuAtTop === undefined ? {} : { cpuAtTop }),
  };
  if (cpuAtTop !== undefined) {
    opts.log(
      `  CPU at ${top}x: ${cpuAtTop.cores.toFixed(2)} cores: checkouts answered 2xx ${cpuAtTop.checkouts.toFixed(2)}, ` +
        `reads answered 2xx ${cpuAtTop.reads.toFixed(2)} (late ones too), the rest ${cpuAtTop.rest.toFixed(2)} ` +
        `(${cpuAtTop.refusedRps.toFixed(0)} refusals/s: ${cpuAtTop.restPerRefusalUs.toFixed(0)} µs each if the rest were all refusals); ` +
        `checkouts alone used ${perClass.checkoutsCores.toFixed(2)} cores`,
    );
  }
  opts.log(
    `  run (${pinned ? 'pinned' : 'unpinned'}): checkouts at ${top}x ${(figures.criticalOfAlone * 100).toFixed(0)}% of alone, ` +
      `cost-weighted goodput ${Object.entries(costWeighted).map(([m, v]) => `${m} ${((v ?? 0) * 100).toFixed(0)}%`).join(', ')}, ` +
      `sheddable served at <=1x ${(figures.sheddableServedAtMost1x * 100).toFixed(0)}%, checkout p99 ${criticalP99.toFixed(1)} ms ` +
      `(unloaded ${unloadedCriticalP99.toFixed(1)} ms), tenant fairness ${(fairness * 100).toFixed(0)}%, ` +
      `checkouts alone ${checkoutsAlone.toFixed(0)}/s (drift ${(figures.aloneDrift * 100).toFixed(0)}%)`,
  );
  return { ramp, capacityRps, kneeConnections, unloadedP99, perClass, points, figures };
}

/** Where the service's CPU went during `point` (see {@link CpuAtTop}). */
function cpuOf(r: RunResult, cores: number, perClass: PerClass): CpuAtTop {
  // Every 2xx is priced, late ones too: the work was done.
  const checkouts = (r.classes.critical.ok / r.durationSec) * (perClass.checkoutCpuMs / 1000);
  const reads = (r.classes.sheddable.ok / r.durationSec) * (perClass.readCpuMs / 1000);
  const rest = cores - checkouts - reads;
  const refusedRps = (r.classes.critical.shed + r.classes.sheddable.shed) / r.durationSec;
  return {
    cores,
    checkouts,
    reads,
    rest,
    refusedRps,
    restPerRefusalUs: refusedRps > 0 ? (rest * 1e6) / refusedRps : Number.NaN,
  };
}

/** What one side of the tenant flood saw: goodput, answers by status, admitted latencies. */
export interface FloodSide {
  readonly goodRps: number;
  readonly sent: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** 2xx answered after the goodput deadline (1 s). */
  readonly late: number;
  readonly p50: number;
  readonly p99: number;
}

/** The tenant flood's figure and what it was made of (for diagnosis: where the quiet tenant's checkouts went). */
export interface TenantFloodResult {
  /** The quiet tenant's goodput while another floods, over its goodput alone. */
  readonly fairness: number;
  readonly quietRate: number;
  readonly floodRate: number;
  readonly alone: FloodSide;
  readonly quietDuringFlood: FloodSide;
  readonly flood: FloodSide;
  /** Which policy refused what during the flood step (`ballast_policy_rejections_total` growth). */
  readonly refusedBy: string;
}

function side(r: RunResult): FloodSide {
  const c = r.classes.critical;
  return {
    goodRps: c.good / r.durationSec,
    sent: c.sent,
    statuses: c.statuses,
    late: c.ok - c.good,
    p50: percentile(c.admittedLatencies, 50),
    p99: percentile(c.admittedLatencies, 99),
  };
}

/**
 * Fairness between tenants: a tenant within its plan (globex) sends checkouts at a fifth of what the service serves
 * of them alone, first alone, then while another tenant (acme) floods checkouts at four times that capacity, on
 * Ballast with RetailFlow's default per-tenant shares. Answers the quiet tenant's goodput with the flood over its
 * goodput alone, with what each side saw.
 */
export async function tenantFlood(
  opts: Pick<OverloadOptions, 'env' | 'warmSec' | 'stepSec' | 'log'>,
  checkoutsAloneRps: number,
  pin: (service: ServiceProcess) => Promise<void>,
): Promise<TenantFloodResult | undefined> {
  if (!(checkoutsAloneRps > 0)) return undefined;
  const env = { ...opts.env, LOAD_SHEDDING: 'ballast' };
  delete (env as Record<string, string>).TENANT_INVENTORY_SHARE;
  const service = await startService(env, { fresh: true });
  try {
    await pin(service);
    await warm(service.url, opts.warmSec);
    const quietRate = checkoutsAloneRps / 5;
    const floodRate = checkoutsAloneRps * 4;
    const quiet = (durationSec: number) =>
      runLoad({
        url: service.url,
        durationSec,
        rate: quietRate,
        connections: 64,
        criticalShare: 1,
        checkoutKey: KEYS.globex,
      });
    const alone = await quiet(opts.stepSec);
    const before = rejections(await scrape(service.opsUrl).catch(() => []));
    const [withFlood, flood] = await Promise.all([
      quiet(opts.stepSec),
      runLoad({ url: service.url, durationSec: opts.stepSec, rate: floodRate, connections: CONNECTIONS, criticalShare: 1 }),
    ]);
    const [refused] = await refusedBy(service.opsUrl, before);
    const result: TenantFloodResult = {
      fairness: Number.NaN,
      quietRate,
      floodRate,
      alone: side(alone),
      quietDuringFlood: side(withFlood),
      flood: side(flood),
      refusedBy: refused,
    };
    const fairness = result.alone.goodRps > 0 ? result.quietDuringFlood.goodRps / result.alone.goodRps : Number.NaN;
    const show = (s: FloodSide) =>
      `${s.goodRps.toFixed(1)}/s good of ${s.sent} sent, ${JSON.stringify(s.statuses)}, ${s.late} late, ` +
      `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms`;
    opts.log(
      `  tenant flood: the quiet tenant's checkouts ${result.alone.goodRps.toFixed(1)}/s alone, ` +
        `${result.quietDuringFlood.goodRps.toFixed(1)}/s while another floods`,
    );
    opts.log(`    quiet (${quietRate.toFixed(1)}/s) alone: ${show(result.alone)}`);
    opts.log(`    quiet during the flood: ${show(result.quietDuringFlood)}`);
    opts.log(`    flood (${floodRate.toFixed(0)}/s): ${show(result.flood)}`);
    opts.log(`    refused by ${refused === '' ? 'nothing' : refused}`);
    return { ...result, fairness };
  } finally {
    await service.stop();
  }
}

function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const mid = finite.length / 2;
  const median = finite.length % 2 === 1 ? finite[Math.floor(mid)]! : (finite[mid - 1]! + finite[mid]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]!, runs: finite.length };
}

function summarise(runs: readonly OverloadRunFigures[], modes: readonly SheddingMode[]): Record<string, Spread> {
  const of = (f: (r: OverloadRunFigures) => number) => spread(runs.map(f));
  return {
    capacityRps: of((r) => r.capacityRps),
    checkoutsAloneRps: of((r) => r.checkoutsAloneRps),
    aloneDrift: of((r) => r.aloneDrift),
    criticalOfAlone: of((r) => r.criticalOfAlone),
    ...Object.fromEntries(modes.map((m) => [`costWeighted.${m}`, of((r) => r.costWeighted[m] ?? Number.NaN)])),
    sheddableServedAtMost1x: of((r) => r.sheddableServedAtMost1x),
    criticalP99: of((r) => r.criticalP99),
    unloadedCriticalP99: of((r) => r.unloadedCriticalP99),
    criticalServed: of((r) => r.criticalServed),
    sheddableServed: of((r) => r.sheddableServed),
    tenantFairness: of((r) => r.tenantFairness),
    checkoutsAloneCores: of((r) => r.checkoutsAloneCores),
    checkoutsAloneP99: of((r) => r.checkoutsAloneP99),
    'cpuAtTop.cores': of((r) => r.cpuAtTop?.cores ?? Number.NaN),
    'cpuAtTop.checkouts': of((r) => r.cpuAtTop?.checkouts ?? Number.NaN),
    'cpuAtTop.reads': of((r) => r.cpuAtTop?.reads ?? Number.NaN),
    'cpuAtTop.rest': of((r) => r.cpuAtTop?.rest ?? Number.NaN),
    'cpuAtTop.restPerRefusalUs': of((r) => r.cpuAtTop?.restPerRefusalUs ?? Number.NaN),
  };
}

/**
 * The overload scenario, {@link OverloadOptions.repeats}`.pinned` times pinned (the service alone on CPU 0; the load
 * generator, this process, and PostgreSQL's postmaster, whose new backends inherit it, on CPU 1: `taskset`) and
 * `repeats.unpinned` times unpinned. Every goal is judged on the medians of the pinned runs, each run's figures against the
 * same run's own capacity and baselines.
 */
export async function overload(options: OverloadOptions): Promise<OverloadResult> {
  // The payment provider stands in for a remote one: a process of its own, pinned with the other dependencies.
  // Started by each RetailFlow (without PAYMENT_URL), it answered every charge from the service's own event loop, on
  // the service's core: each charge queued twice more behind the overload it was measured under.
  const provider = options.env.PAYMENT_URL === undefined ? await startPaymentProvider() : undefined;
  try {
    const env = provider === undefined ? options.env : { PAYMENT_URL: provider.url, ...options.env };
    return await measureOverload({ ...options, env }, provider?.pid);
  } finally {
    await provider?.stop();
  }
}

async function measureOverload(opts: OverloadOptions, providerPid: number | undefined): Promise<OverloadResult> {
  const canPin = await Pinning.available(os.cpus().length);
  const pinnings = [true, false].filter((p) => !p || canPin);
  const notes: string[] = canPin ? [] : ['pinning unavailable (taskset missing or fewer than 2 CPUs): unpinned runs only'];
  const postmaster = opts.databaseUrl === undefined ? undefined : await postmasterPid(opts.databaseUrl);
  // The service's other dependencies on this machine go with PostgreSQL: left to float, RabbitMQ's Erlang schedulers
  // took 0.10-0.14 of the service's core at 4x (the core at 92-98% busy, the service at 0.82-0.90 of it).
  const others = [
    { what: 'Redis', pid: opts.env.REDIS_URL === undefined ? undefined : await redisPid(opts.env.REDIS_URL) },
    { what: 'RabbitMQ', pid: opts.env.AMQP_URL === undefined ? undefined : await brokerPid(opts.env.AMQP_URL) },
    { what: 'payment provider', pid: providerPid },
  ];
  const runs: OneRun[] = [];
  for (const pinned of pinnings) {
    const repeats = pinned ? opts.repeats.pinned : opts.repeats.unpinned;
    for (let i = 0; i < repeats; i++) {
      opts.log(`  overload run ${i + 1} of ${repeats}, ${pinned ? 'pinned' : 'unpinned'}`);
      const pinning = new Pinning();
      // Interrupted, the run still puts back the affinities it changed (PostgreSQL's is shared with everyone).
      const forget = onInterrupt('overload: restoring CPU affinities', () => pinning.release());
      try {
        if (pinned) {
          await pinning.pin(process.pid, '1', 'load generator');
          // Another user's postmaster may refuse (EPERM): the run goes on with PostgreSQL unpinned, and says so.
          if (postmaster !== undefined) {
            await pinning
              .pin(postmaster, '1', 'PostgreSQL postmaster')
              .catch((error: unknown) => pinning.notes.push(`PostgreSQL not pinned (${String(error)})`));
          }
          for (const { what, pid } of others) {
            if (pid === undefined) continue;
            await pinning.pin(pid, '1', what).catch((error: unknown) => pinning.notes.push(`${what} not pinned (${String(error)})`));
          }
        }
        const pin = (service: ServiceProcess) =>
          pinned && service.child.pid !== undefined ? pinning.pin(service.child.pid, '0', 'RetailFlow') : Promise.resolve();
        // Fairness is judged on the pinned runs' median: with pinned runs to judge, an unpinned one skips the flood.
        const flood = opts.tenantFlood !== false && (pinned || opts.repeats.pinned === 0 || !canPin);
        runs.push(await overloadRun({ ...opts, tenantFlood: flood }, pinned, pin));
        if (pinned && notes.length === 0) notes.push(...new Set(pinning.notes.map((n) => n.replace(/ \(pid \d+\)/, ''))));
      } finally {
        forget();
        await pinning.release();
      }
    }
  }
  const figures = runs.map((r) => r.figures);
  const pinnedRuns = figures.filter((f) => f.pinned);
  const summary = {
    pinned: summarise(pinnedRuns, opts.modes),
    unpinned: summarise(
      figures.filter((f) => !f.pinned),
      opts.modes,
    ),
  };
  const judged = pinnedRuns.length > 0 ? summary.pinned : summary.unpinned;
  const m = (key: string) => judged[key]?.median ?? Number.NaN;
  const baselines: Partial<Record<SheddingMode, number>> = {};
  for (const mode of opts.modes) if (mode !== 'ballast') baselines[mode] = m(`costWeighted.${mode}`);
  const bestBaseline = Math.max(0, ...Object.values(baselines).filter((v) => Number.isFinite(v)));
  const weighted = m('costWeighted.ballast');
  const critical = m('criticalOfAlone');
  const sheddable1x = m('sheddableServedAtMost1x');
  const p99 = m('criticalP99');
  const p99Goal = 2 * m('unloadedCriticalP99');
  const fairness = m('tenantFairness');
  const first = runs.find((r) => r.figures.pinned) ?? runs[0]!;
  return {
    ramp: first.ramp,
    capacityRps: first.capacityRps,
    kneeConnections: first.kneeConnections,
    unloadedP99: first.unloadedP99,
    perClass: first.perClass,
    points: first.points,
    pinning: notes,
    runs: figures,
    summary,
    goals: {
      criticalGoodputAt4x: { value: critical, goal: 0.9, met: critical >= 0.9 },
      costWeightedGoodputAt4x: {
        value: weighted,
        goal: Math.max(0.9, bestBaseline),
        met: weighted >= 0.9 && weighted > bestBaseline,
        baselines,
      },
      sheddableServedAt1x: { value: sheddable1x, goal: 0.99, met: sheddable1x >= 0.99 },
      p99At4x: { value: p99, goal: p99Goal, met: p99 <= p99Goal },
      tenantFairness: { value: fairness, goal: 0.9, met: fairness >= 0.9 },
      criticalFirst: {
        value: m('criticalServed'),
        goal: m('sheddableServed'),
        met: m('criticalServed') >= m('sheddableServed'),
      },
    },
  };
}
