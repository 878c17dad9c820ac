// How the canary drill's detection time and harm move with the canary's share and the traffic rate.
//
// The deployments drill measures one rollout per build at one traffic rate on real parts. Measuring every share and
// rate that way would take hours, so this study replays the drill's rollout logic second by second on simulated
// traffic and asks the real judge (`judgeCanary` from @ballast/slo, with the drill's options) at the drill's cadence.
// The traffic model takes the drill's shape (one checkout in three requests; checkout availability at 99.5%; the
// failing build's measured checkout failure ratio; the slow build's added latency) and its randomness is seeded, so
// a run is reproducible. The drill's own measured trial at its rate is the check on the model: the report shows both.

import { judgeCanary, type CanaryJudgement } from '@ballast/slo';
import { seededRandom } from '@ballast/testkit';

/** A build under test, as the traffic model sees it. */
export interface SimulatedBuild {
  readonly name: string;
  /** Share of the canary's checkouts that fail. */
  readonly checkoutFailure: number;
  /** Milliseconds the build adds to every checkout. */
  readonly addedLatencyMs: number;
}

/** One rollout schedule at one traffic rate. */
export interface RolloutScenario {
  /** Requests per second through the balancer, all versions together. */
  readonly rate: number;
  /** The canary's share at each step (the drill: 5% → 25% → 50% → 100%); a single entry holds one share. */
  readonly steps: readonly number[];
  /** Seconds a step lasts at least (half of it once the judge passes it; three times it and the rollout holds). */
  readonly stepSec: number;
  readonly build: SimulatedBuild;
  /** Events each version needs in an SLO before the judge decides (the drill: 25). */
  readonly minEvents: number;
}

/** One simulated rollout's end. */
export interface SimulatedTrial {
  readonly outcome: 'promoted' | 'rolled back' | 'held';
  readonly decidedAfterSec: number;
  readonly shareAtDecision: number;
  /** Requests the canary failed before the decision. */
  readonly harmed: number;
  /** Requests served, all versions, before the decision. */
  readonly served: number;
}

/** Many trials of one scenario, summarised. */
export interface ScenarioSummary {
  readonly rate: number;
  readonly firstShare: number;
  readonly minEvents: number;
  readonly build: string;
  readonly trials: number;
  readonly rolledBack: number;
  readonly promoted: number;
  readonly held: number;
  /** Seconds to the decision: median and 90th percentile over the trials that rolled back (bad builds) or all. */
  readonly decidedP50Sec: number;
  readonly decidedP90Sec: number;
  /** Requests the canary failed before its rollback: median and 90th percentile. */
  readonly harmedP50: number;
  readonly harmedP90: number;
  /** Harmed requests as a share of all requests served during the rollout (median). */
  readonly harmedShareP50: number;
}

// The drill's judge options and traffic shape (scripts/proof/deployments.ts).
const JUDGE_EVERY_SEC = 2;
const INTERVAL_SEC = 5;
const CHECKOUT_SHARE = 1 / 3;
const CHECKOUT_OBJECTIVE = 0.995;
const CATALOG_OBJECTIVE = 0.99;
const BASELINE_CHECKOUT_FAILURE = 0.0005;
const CATALOG_SLOW = 0.001;
const CHECKOUT_MEDIAN_MS = 17;

function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) {
    // Normal approximation for large means (Box-Muller), rounded and floored at 0.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

function binomial(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

/** A checkout's latency in ms: log-normal around the measured median, plus what the build adds. */
function latency(random: () => number, addedMs: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return CHECKOUT_MEDIAN_MS * Math.exp(0.4 * z) + addedMs;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface Side {
  checkouts: number;
  checkoutsBad: number;
  reads: number;
  readsSlow: number;
  /** Checkout latencies (seconds) of the current 5-second interval, and each closed interval's median. */
  open: number[];
  medians: number[];
}

const side = (): Side => ({ checkouts: 0, checkoutsBad: 0, reads: 0, readsSlow: 0, open: [], medians: [] });

/** Simulates one rollout second by second, judging as the drill does. */
export function simulateRollout(s: RolloutScenario, random: () => number): SimulatedTrial {
  const canary = side();
  const baseline = side();
  let harmed = 0;
  let served = 0;
  let t = 0;
  for (const share of s.steps) {
    // A canary that passed every judged step is promoted as it takes all traffic: the rollout is over.
    if (share === 1) break;
    let stepElapsed = 0;
    for (;;) {
      // One second of traffic at this share.
      for (const [who, own, build] of [
        [canary, share, s.build],
        [baseline, 1 - share, { name: 'stable', checkoutFailure: BASELINE_CHECKOUT_FAILURE, addedLatencyMs: 0 }],
      ] as const) {
        const checkouts = poisson(random, s.rate * own * CHECKOUT_SHARE);
        const reads = poisson(random, s.rate * own * (1 - CHECKOUT_SHARE));
        const bad = binomial(random, checkouts, build.checkoutFailure);
        who.checkouts += checkouts;
        who.checkoutsBad += bad;
        who.reads += reads;
        who.readsSlow += binomial(random, reads, CATALOG_SLOW);
        for (let i = 0; i < checkouts; i++) who.open.push(latency(random, build.addedLatencyMs) / 1000);
        served += checkouts + reads;
        if (who === canary) harmed += bad;
      }
      t++;
      stepElapsed++;
      if (t % INTERVAL_SEC === 0) {
        for (const who of [canary, baseline]) {
          if (who.open.length > 0) who.medians.push(medianOf(who.open));
          who.open = [];
        }
      }
      if (t % JUDGE_EVERY_SEC !== 0) continue;
      const judgement: CanaryJudgement = judgeCanary({
        slos: [
          {
            name: 'checkout-availability',
            objective: CHECKOUT_OBJECTIVE,
            canary: { good: canary.checkouts - canary.checkoutsBad, total: canary.checkouts },
            baseline: { good: baseline.checkouts - baseline.checkoutsBad, total: baseline.checkouts },
          },
          {
            name: 'catalog-latency',
            objective: CATALOG_OBJECTIVE,
            canary: { good: canary.reads - canary.readsSlow, total: canary.reads },
            baseline: { good: baseline.reads - baseline.readsSlow, total: baseline.reads },
          },
        ],
        metrics: [
          { name: 'checkout p50', canary: canary.medians, baseline: baseline.medians, allowedIncrease: 0.02 },
        ],
        options: { minEvents: s.minEvents, minIntervals: 5 },
      });
      if (judgement.verdict === 'fail') {
        return { outcome: 'rolled back', decidedAfterSec: t, shareAtDecision: share, harmed, served };
      }
      if (judgement.verdict === 'pass' && stepElapsed >= s.stepSec / 2) break;
      if (stepElapsed >= 3 * s.stepSec) {
        return { outcome: 'held', decidedAfterSec: t, shareAtDecision: share, harmed, served };
      }
    }
  }
  return { outcome: 'promoted', decidedAfterSec: t, shareAtDecision: 1, harmed, served };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs `trials` seeded rollouts of a scenario and summarises them. */
export function summarise(s: RolloutScenario, trials: number, seed: number): ScenarioSummary {
  // Seeded (mulberry32): the study is reproducible run to run.
  const random = seededRandom(seed);
  const results = Array.from({ length: trials }, () => simulateRollout(s, random));
  const rolledBack = results.filter((r) => r.outcome === 'rolled back');
  const decided = s.build.checkoutFailure > 0 || s.build.addedLatencyMs > 0 ? rolledBack : results;
  return {
    rate: s.rate,
    firstShare: s.steps[0]!,
    minEvents: s.minEvents,
    build: s.build.name,
    trials,
    rolledBack: rolledBack.length,
    promoted: results.filter((r) => r.outcome === 'promoted').length,
    held: results.filter((r) => r.outcome === 'held').length,
    decidedP50Sec: quantile(
      decided.map((r) => r.decidedAfterSec),
      0.5,
    ),
    decidedP90Sec: quantile(
      decided.map((r) => r.decidedAfterSec),
      0.9,
    ),
    harmedP50: quantile(
      decided.map((r) => r.harmed),
      0.5,
    ),
    harmedP90: quantile(
      decided.map((r) => r.harmed),
      0.9,
    ),
    harmedShareP50: quantile(
      decided.map((r) => r.harmed / Math.max(1, r.served)),
      0.5,
    ),
  };
}

/** What the study found. */
export interface CanarySensitivity {
  readonly seed: number;
  readonly trials: number;
  readonly stepSec: number;
  readonly builds: readonly SimulatedBuild[];
  /** The drill's schedule (first share, then 25% → 50% → 100%) at each rate, for each build. */
  readonly rows: readonly ScenarioSummary[];
  /** The drill's rate and first share with larger minimum samples: fewer escapes, slower promotions. */
  readonly byMinEvents: readonly ScenarioSummary[];
}

/** Knobs of the study. */
export interface CanarySensitivityOptions {
  /** The failing build's checkout failure ratio (the drill measures it). @default 0.043 */
  readonly failingCheckoutFailure?: number;
  readonly rates?: readonly number[];
  readonly firstShares?: readonly number[];
  /** The drill's own rate (the minimum-sample rows use it). @default 60 */
  readonly drillRate?: number;
  readonly minEvents?: readonly number[];
  readonly trials?: number;
  readonly stepSec?: number;
  readonly seed?: number;
}

/**
 * Runs the study: for each traffic rate and first share, the drill's rollout of a failing, a slow and a good build,
 * `trials` times each.
 */
export function canarySensitivity(o: CanarySensitivityOptions = {}): CanarySensitivity {
  const builds: SimulatedBuild[] = [
    { name: 'failing', checkoutFailure: o.failingCheckoutFailure ?? 0.043, addedLatencyMs: 0 },
    { name: 'slow', checkoutFailure: BASELINE_CHECKOUT_FAILURE, addedLatencyMs: 200 },
    { name: 'good', checkoutFailure: BASELINE_CHECKOUT_FAILURE, addedLatencyMs: 0 },
  ];
  const seed = o.seed ?? 20261206;
  const trials = o.trials ?? 200;
  const stepSec = o.stepSec ?? 20;
  const rows: ScenarioSummary[] = [];
  let n = 0;
  for (const rate of o.rates ?? [15, 30, 60, 120]) {
    for (const first of o.firstShares ?? [0.01, 0.05, 0.25]) {
      const steps = [first, ...[0.25, 0.5, 1].filter((x) => x > first)];
      for (const build of builds)
        rows.push(summarise({ rate, steps, stepSec, build, minEvents: 25 }, trials, seed + n++));
    }
  }
  const byMinEvents: ScenarioSummary[] = [];
  for (const minEvents of o.minEvents ?? [25, 50, 100, 200]) {
    for (const build of builds) {
      const scenario = { rate: o.drillRate ?? 60, steps: [0.05, 0.25, 0.5, 1], stepSec, build, minEvents };
      byMinEvents.push(summarise(scenario, trials, seed + n++));
    }
  }
  return { seed, trials, stepSec, builds, rows, byMinEvents };
}

// Run alone (`npx tsx --conditions=@ballast/source scripts/proof/canary-sensitivity.ts [stepSec] [drillRate]
// [trials]`): prints the study as Markdown tables, then its JSON on the last line. The deployments section of the
// proof runs the same study with its own step length and rate.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*[\\/]scripts[\\/]/, 'scripts/'))) {
  const [stepSec = 15, drillRate = 60, trials = 200] = process.argv.slice(2).map(Number);
  const study = canarySensitivity({
    stepSec,
    drillRate,
    trials,
    rates: [...new Set([15, 30, drillRate, 2 * drillRate])].sort((a, b) => a - b),
  });
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  const sec = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} s` : '–');
  const table = (rows: readonly ScenarioSummary[]) => [
    '| req/s | first share | min events | build | rolled back | held | promoted | rollback after p50 / p90 | harmed p50 / p90 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.rate} | ${pct(r.firstShare)} | ${r.minEvents} | ${r.build} | ${pct(r.rolledBack / r.trials)} | ${pct(r.held / r.trials)} | ${pct(r.promoted / r.trials)} | ${sec(r.decidedP50Sec)} / ${sec(r.decidedP90Sec)} | ${Number.isFinite(r.harmedP50) ? `${r.harmedP50} / ${r.harmedP90}` : '–'} |`,
    ),
  ];
  console.log(
    [
      `# Canary sensitivity: ${stepSec} s steps, ${trials} trials per row, seed ${study.seed}`,
      '',
      ...table(study.rows),
      '',
      `## At ${drillRate} req/s from 5%, by minimum sample`,
      '',
      ...table(study.byMinEvents),
      '',
      JSON.stringify(study),
    ].join('\n'),
  );
}
