/**
 * The three limit algorithms on one simulated overloaded service: goodput, p99 latency and how steady the limit is.
 * No wall time is measured: a deterministic queueing model runs on a `ManualClock` in 1 ms ticks, so every run
 * gives the same figures on any machine.
 *
 * The service: 40 workers and 10 ms of work per call (a capacity of 4 calls a millisecond), shared by every call in
 * flight (processor sharing), with a contention cost past the workers: `n` calls in flight each get
 * `min(1, 40 / n) / (1 + 0.05 * max(0, n - 40) / 40)` ms of work a millisecond. A call the client has waited 250 ms
 * for is abandoned (a drop, fed to the algorithm as one). Calls arrive open loop (Poisson, seeded) at 0.5x, 1x and 4x
 * the capacity, in front of a `ConcurrencyLimiter` without a queue; over its limit a call is refused at once.
 *
 * Each algorithm starts from a limit of 20 (maximum 1,000) and runs 30 s; the last 20 s are measured. A fixed
 * limit of 44 (the workers plus a tenth) is the reference no adaptive algorithm should need to beat. Reported per
 * algorithm and load: goodput (calls completed within 250 ms, per second, and as a share of the capacity or of
 * the offered load when that is lower), p99 latency of those calls, and the limit's mean and coefficient of
 * variation (standard deviation / mean, sampled every millisecond). A p99 of `-` (null in the JSON) means no call
 * completed within the timeout.
 */
import { ManualClock } from '@ballast/core';
import {
  AimdLimit,
  ConcurrencyLimiter,
  Gradient2Limit,
  type LimitAlgorithm,
  type LimiterPermit,
  VegasLimit,
} from '@ballast/resilience';
import { type BenchResult, seededRandom } from '@ballast/testkit';

const WORKERS = 40;
const WORK_MS = 10;
const CAPACITY_PER_MS = WORKERS / WORK_MS;
const CONTENTION = 0.05;
const TIMEOUT_MS = 250;
const WARMUP_MS = 10_000;
const RUN_MS = 30_000;
const LOADS = [0.5, 1, 4] as const;

const ALGORITHMS: Record<string, (random: () => number) => LimitAlgorithm> = {
  'fixed 44': () => ({ limit: 44, update: () => 44 }),
  aimd: () => new AimdLimit({ initialLimit: 20, maxLimit: 1000, timeoutMs: TIMEOUT_MS }),
  gradient2: () => new Gradient2Limit({ initialLimit: 20, maxLimit: 1000 }),
  vegas: (random) => new VegasLimit({ initialLimit: 20, maxLimit: 1000, random }),
};

/** What one algorithm did at one load. */
export interface LimitRun {
  readonly algorithm: string;
  readonly load: number;
  /** Calls completed within the timeout, per second. */
  readonly goodputPerSec: number;
  /** Goodput as a share of what could be served: min(capacity, offered load). */
  readonly goodputShare: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly limitMean: number;
  readonly limitCv: number;
  /** Share of offered calls refused by the limiter. */
  readonly refusedShare: number;
  /** Share of admitted calls the client abandoned at the timeout. */
  readonly timedOutShare: number;
}

function poisson(random: () => number, mean: number): number {
  // Knuth's method: fine for the few calls a millisecond offered here.
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= random();
  } while (p > l);
  return k - 1;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * One run. Every call needs the same work, so under processor sharing calls finish in the order they started:
 * the running calls are a FIFO queue, and a call is done once the work served per call since it started reaches
 * `WORK_MS` (the head also leaves first at the timeout).
 */
export function simulate(
  name: string,
  load: number,
  seed = 20261207,
  trace?: { algorithm: LimitAlgorithm; onTick(now: number, running: number): void },
): LimitRun {
  const random = seededRandom(seed);
  const clock = new ManualClock(0);
  const limiter = new ConcurrencyLimiter({
    name: `bench-${name}`,
    clock,
    algorithm: trace?.algorithm ?? ALGORITHMS[name]!(seededRandom(seed + 1)),
    queue: false,
  });
  const started: number[] = [];
  const servedAtStart: number[] = [];
  const permits: LimiterPermit[] = [];
  let head = 0;
  let served = 0; // work served to each running call since the start, in ms
  const latencies: number[] = [];
  const count = { offered: 0, refused: 0, admitted: 0, timedOut: 0 };
  const limits = { sum: 0, squares: 0, samples: 0 };
  for (let now = 0; now < RUN_MS; now++) {
    const measuring = now >= WARMUP_MS;
    const arrivals = poisson(random, load * CAPACITY_PER_MS);
    for (let i = 0; i < arrivals; i++) {
      const permit = limiter.tryAcquire('critical');
      if (measuring) count.offered++;
      if (permit === undefined) {
        if (measuring) count.refused++;
        continue;
      }
      if (measuring) count.admitted++;
      started.push(now);
      servedAtStart.push(served);
      permits.push(permit);
    }
    clock.advance(1);
    const running = started.length - head;
    if (running > 0) {
      const share =
        Math.min(1, WORKERS / running) / (1 + (CONTENTION * Math.max(0, running - WORKERS)) / WORKERS);
      served += share;
    }
    while (head < started.length) {
      const elapsed = now + 1 - started[head]!;
      if (served - servedAtStart[head]! >= WORK_MS - 1e-9) {
        permits[head]!.success();
        if (measuring) latencies.push(elapsed);
      } else if (elapsed >= TIMEOUT_MS) {
        permits[head]!.dropped();
        if (measuring) count.timedOut++;
      } else {
        break;
      }
      head++;
    }
    if (head > 4096 && head * 2 > started.length) {
      started.splice(0, head);
      servedAtStart.splice(0, head);
      permits.splice(0, head);
      head = 0;
    }
    trace?.onTick(now + 1, started.length - head);
    if (measuring) {
      const limit = limiter.limit;
      limits.sum += limit;
      limits.squares += limit * limit;
      limits.samples++;
    }
  }
  latencies.sort((a, b) => a - b);
  const seconds = (RUN_MS - WARMUP_MS) / 1000;
  const goodputPerSec = latencies.length / seconds;
  const limitMean = limits.sum / limits.samples;
  const variance = Math.max(0, limits.squares / limits.samples - limitMean * limitMean);
  return {
    algorithm: name,
    load,
    goodputPerSec,
    goodputShare: goodputPerSec / (Math.min(1, load) * CAPACITY_PER_MS * 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    limitMean,
    limitCv: Math.sqrt(variance) / limitMean,
    refusedShare: count.refused / Math.max(1, count.offered),
    timedOutShare: count.timedOut / Math.max(1, count.admitted),
  };
}

const key = (name: string) => name.replace(/\s+/g, '');

export function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const runs = Object.keys(ALGORITHMS).flatMap((name) => LOADS.map((load) => simulate(name, load)));
  const header =
    'algorithm   load   goodput/s   share   p50 ms   p99 ms   limit mean   limit cv   refused   timed out';
  const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  const lines = runs.map(
    (r) =>
      `${r.algorithm.padEnd(10)}  ${`${r.load}x`.padStart(4)}  ${r.goodputPerSec.toFixed(0).padStart(10)}  ` +
      `${r.goodputShare.toFixed(3).padStart(6)}  ${ms(r.p50Ms).padStart(7)}  ${ms(r.p99Ms).padStart(7)}  ` +
      `${r.limitMean.toFixed(1).padStart(11)}  ${r.limitCv.toFixed(3).padStart(9)}  ` +
      `${(r.refusedShare * 100).toFixed(1).padStart(7)}%  ${(r.timedOutShare * 100).toFixed(1).padStart(8)}%`,
  );
  console.log(
    `limit algorithms on a simulated service (${WORKERS} workers x ${WORK_MS} ms, timeout ${TIMEOUT_MS} ms, ` +
      `${(RUN_MS - WARMUP_MS) / 1000} s measured)\n${header}\n${lines.join('\n')}`,
  );
  const results: BenchResult[] = runs.map((r) => ({
    name: `limits: ${r.algorithm} at ${r.load}x (goodput/s, median latency)`,
    opsPerSec: r.goodputPerSec,
    medianNs: r.p50Ms * 1e6,
  }));
  const ratios: Record<string, number> = {};
  for (const r of runs) {
    const at = `${key(r.algorithm)}_${r.load}x`;
    ratios[`limits_goodput_share_${at}`] = r.goodputShare;
    ratios[`limits_p99_ms_${at}`] = r.p99Ms;
    ratios[`limits_limit_cv_${at}`] = r.limitCv;
  }
  const find = (name: string, load: number) => runs.find((r) => r.algorithm === name && r.load === load)!;
  for (const load of LOADS) {
    ratios[`limits_vegas_goodput_vs_gradient2_${load}x`] =
      find('vegas', load).goodputPerSec / find('gradient2', load).goodputPerSec;
    ratios[`limits_vegas_goodput_vs_fixed44_${load}x`] =
      find('vegas', load).goodputPerSec / find('fixed 44', load).goodputPerSec;
  }
  return Promise.resolve({ results, ratios });
}
