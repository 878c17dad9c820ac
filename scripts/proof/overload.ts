import { runClosedLoop, runLoad, type RunResult } from './load.js';
import { startService, type ServiceProcess } from './service.js';

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
}

/** Everything the overload scenario measured. */
export interface OverloadResult {
  readonly ramp: RampPoint[];
  readonly capacityRps: number;
  readonly kneeConnections: number;
  readonly unloadedP99: number;
  /**
   * Each class alone, closed loop at the knee: what the service serves of checkouts only and of catalog reads only,
   * and so what a checkout costs in reads.
   */
  readonly perClass: { readonly checkoutsRps: number; readonly readsRps: number; readonly checkoutCostInReads: number };
  readonly points: OverloadPoint[];
  readonly goals: {
    readonly goodputAt4x: { readonly value: number; readonly goal: number; readonly met: boolean };
    readonly p99At4x: { readonly value: number; readonly goal: number; readonly met: boolean };
    readonly criticalFirst: { readonly critical: number; readonly sheddable: number; readonly met: boolean };
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
  readonly multiples: readonly number[];
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
 * A ramp point sets the capacity only while the service answers nearly everything: past the knee, a service with
 * a bulkhead refuses checkouts in a millisecond, each closed-loop connection then cycles through cheap catalog reads
 * instead, and "goodput" climbs while the service serves less of what it is asked.
 */
const REFUSED_AT_MOST = 0.01;

/**
 * Finds capacity with a closed-loop ramp on the service without shedding (goodput per connection count; capacity is
 * the best goodput of the points where at most 1% of answers were refusals, the knee the fewest connections
 * reaching 95% of it), measures the unloaded p99 at a fifth of capacity, then offers 1x,
 * 2x and 4x capacity open loop for a fixed time in each shedding mode, each mode on a fresh service process.
 */
export async function overload(opts: OverloadOptions): Promise<OverloadResult> {
  // One tenant sends every checkout of this mix: its share of the ingress and of the bulkhead would be the limit
  // measured, not shedding. Fairness between tenants is the hostile section's noisy-neighbour scenario.
  const start = (mode: SheddingMode): Promise<ServiceProcess> =>
    startService({ TENANT_INVENTORY_SHARE: '1', ...opts.env, LOAD_SHEDDING: mode }, { fresh: true });
  // Capacity is the service's own, without any shedding in the way.
  let service = await start('none');
  const ramp: RampPoint[] = [];
  let capacityRps = 0;
  let kneeConnections = 0;
  let perClass: OverloadResult['perClass'] = { checkoutsRps: 0, readsRps: 0, checkoutCostInReads: Number.NaN };
  try {
    // Warm the JIT and the caches before measuring anything.
    await runClosedLoop(service.url, 8, opts.warmSec);
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
    }
    const counted = ramp.filter((p) => p.counts);
    capacityRps = Math.max(...(counted.length > 0 ? counted : ramp.slice(0, 1)).map((p) => p.goodputRps));
    kneeConnections = ramp.find((p) => p.goodputRps >= 0.95 * capacityRps)?.connections ?? 0;
    // Each class alone at the knee, on the same service: what a checkout costs, in reads.
    const connections = Math.max(1, kneeConnections);
    const checkouts = await runClosedLoop(service.url, connections, opts.rampSec, 1000, 'checkouts');
    const reads = await runClosedLoop(service.url, connections, opts.rampSec, 1000, 'reads');
    perClass = {
      checkoutsRps: checkouts.goodputRps,
      readsRps: reads.goodputRps,
      checkoutCostInReads: checkouts.goodputRps > 0 ? reads.goodputRps / checkouts.goodputRps : Number.NaN,
    };
  } finally {
    await service.stop();
  }
  opts.log(
    `  alone at ${Math.max(1, kneeConnections)} connections: ${perClass.checkoutsRps.toFixed(0)} checkouts/s, ` +
      `${perClass.readsRps.toFixed(0)} reads/s (a checkout costs ${perClass.checkoutCostInReads.toFixed(1)} reads)`,
  );
  opts.log(`  capacity ${capacityRps.toFixed(0)} req/s (knee at ${kneeConnections} connections)`);

  const points: OverloadPoint[] = [];
  let unloadedP99 = Number.NaN;
  for (const mode of opts.modes) {
    service = await start(mode);
    try {
      await runClosedLoop(service.url, 8, opts.warmSec);
      if (mode === 'ballast') {
        const r = await runLoad({ url: service.url, durationSec: opts.stepSec, rate: capacityRps / 5, connections: 64 });
        unloadedP99 = r.p99;
        opts.log(`  unloaded (0.2x) p99 ${unloadedP99.toFixed(1)} ms`);
      }
      for (const multiple of opts.multiples) {
        const rate = capacityRps * multiple;
        const r = await runLoad({ url: service.url, durationSec: opts.stepSec, rate, connections: CONNECTIONS });
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
        };
        points.push(point);
        opts.log(
          `  ${mode} ${multiple}x: goodput ${r.goodputRps.toFixed(0)}/s (${(point.goodputOfCapacity * 100).toFixed(0)}% of capacity), ` +
            `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, critical served ${(point.criticalServed * 100).toFixed(0)}%, ` +
            `sheddable served ${(point.sheddableServed * 100).toFixed(0)}% (checkouts ${point.criticalGoodputRps.toFixed(0)}/s, ` +
            `reads ${point.sheddableGoodputRps.toFixed(0)}/s); statuses ${JSON.stringify(point.statuses)}`,
        );
      }
    } finally {
      await service.stop();
    }
  }
  const at4 = points.find((p) => p.mode === 'ballast' && p.multiple === Math.max(...opts.multiples));
  const goodput = at4?.goodputOfCapacity ?? 0;
  const p99 = at4?.p99 ?? Number.POSITIVE_INFINITY;
  return {
    ramp,
    capacityRps,
    kneeConnections,
    unloadedP99,
    perClass,
    points,
    goals: {
      goodputAt4x: { value: goodput, goal: 0.9, met: goodput >= 0.9 },
      p99At4x: { value: p99, goal: 2 * unloadedP99, met: p99 <= 2 * unloadedP99 },
      criticalFirst: {
        critical: at4?.criticalServed ?? 0,
        sheddable: at4?.sheddableServed ?? 0,
        met: (at4?.criticalServed ?? 0) >= (at4?.sheddableServed ?? 0),
      },
    },
  };
}
