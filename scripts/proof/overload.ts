import { runClosedLoop, runLoad, type RunResult } from './load.js';
import { startService, type ServiceProcess } from './service.js';

/** How the service protects itself at ingress during an overload run. */
export type SheddingMode = 'ballast' | 'none' | 'toobusy';

/** One point of the closed-loop ramp. */
export interface RampPoint {
  readonly connections: number;
  readonly goodputRps: number;
  readonly p99: number;
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
  readonly statuses: Record<string, number>;
}

/** Everything the overload scenario measured. */
export interface OverloadResult {
  readonly ramp: RampPoint[];
  readonly capacityRps: number;
  readonly kneeConnections: number;
  readonly unloadedP99: number;
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
 * Finds capacity with a closed-loop ramp on the service without shedding (goodput per connection count; capacity is the best goodput, the knee
 * the fewest connections reaching 95% of it), measures the unloaded p99 at a fifth of capacity, then offers 1x,
 * 2x and 4x capacity open loop for a fixed time in each shedding mode, each mode on a fresh service process.
 */
export async function overload(opts: OverloadOptions): Promise<OverloadResult> {
  const start = (mode: SheddingMode): Promise<ServiceProcess> => startService({ ...opts.env, LOAD_SHEDDING: mode });
  // Capacity is the service's own, without any shedding in the way.
  let service = await start('none');
  const ramp: RampPoint[] = [];
  try {
    // Warm the JIT and the caches before measuring anything.
    await runClosedLoop(service.url, 8, 2);
    for (const connections of opts.rampConnections) {
      const r = await runClosedLoop(service.url, connections, opts.rampSec);
      ramp.push({ connections, goodputRps: r.goodputRps, p99: r.p99 });
      opts.log(`  ramp ${connections} connections: goodput ${r.goodputRps.toFixed(0)}/s, p99 ${r.p99.toFixed(1)} ms`);
    }
  } finally {
    await service.stop();
  }
  const capacityRps = Math.max(...ramp.map((p) => p.goodputRps));
  const kneeConnections = ramp.find((p) => p.goodputRps >= 0.95 * capacityRps)?.connections ?? 0;
  opts.log(`  capacity ${capacityRps.toFixed(0)} req/s (knee at ${kneeConnections} connections)`);

  const points: OverloadPoint[] = [];
  let unloadedP99 = Number.NaN;
  for (const mode of opts.modes) {
    service = await start(mode);
    try {
      await runClosedLoop(service.url, 8, 2);
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
          statuses: merge(r),
        };
        points.push(point);
        opts.log(
          `  ${mode} ${multiple}x: goodput ${r.goodputRps.toFixed(0)}/s (${(point.goodputOfCapacity * 100).toFixed(0)}% of capacity), ` +
            `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, critical served ${(point.criticalServed * 100).toFixed(0)}%, ` +
            `sheddable served ${(point.sheddableServed * 100).toFixed(0)}%; statuses ${JSON.stringify(point.statuses)}`,
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
