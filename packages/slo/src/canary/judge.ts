import { checkNumber, invalidOption } from '@ballast/core';
import { fisherGreaterPValue, mannWhitneyGreater, median } from './statistics.js';

/**
 * Good and total events of one version over the judged interval.
 * @example
 * ```ts
 * const counts: CanaryCounts = { good: 9_990, total: 10_000 };
 * ```
 */
export interface CanaryCounts {
  readonly good: number;
  readonly total: number;
}

/**
 * One SLO as seen by the canary and by the baseline over the same interval.
 * @example
 * ```ts
 * const slo: CanarySloInput = {
 *   name: 'checkout-availability', objective: 0.999,
 *   baseline: { good: 9_990, total: 10_000 }, canary: { good: 498, total: 500 },
 * };
 * ```
 */
export interface CanarySloInput {
  readonly name: string;
  /** The SLO's objective, in (0, 1). */
  readonly objective: number;
  readonly baseline: CanaryCounts;
  readonly canary: CanaryCounts;
}

/**
 * A metric sampled once per interval on each version (latency p50 per 10 s, say), compared as Kayenta compares
 * metric series: the canary fails when its values are significantly higher and its median is beyond tolerance.
 * @example
 * ```ts
 * const latency: CanaryMetricInput = { name: 'checkout p50 ms', baseline: [21, 22, 20, 23], canary: [220, 231, 219, 225] };
 * ```
 */
export interface CanaryMetricInput {
  readonly name: string;
  readonly baseline: readonly number[];
  readonly canary: readonly number[];
  /** The relative increase of the canary's median over the baseline's that is still a pass. @default 0.2 */
  readonly tolerance?: number;
  /** An absolute increase of the median that is still a pass, whatever the ratio (noise on tiny values). @default 0 */
  readonly allowedIncrease?: number;
}

/**
 * How strict the judge is.
 * @example
 * ```ts
 * const options: CanaryJudgeOptions = { alpha: 0.01, minEvents: 200 };
 * ```
 */
export interface CanaryJudgeOptions {
  /** Significance level of each comparison. @default 0.01 */
  readonly alpha?: number;
  /** Events each version needs in an SLO before it is judged (below it: inconclusive, unless the canary is far worse). @default 100 */
  readonly minEvents?: number;
  /** Intervals each version needs in a metric before it is judged. @default 8 */
  readonly minIntervals?: number;
  /**
   * How much more of the error budget the canary may burn than the baseline, as a burn rate: a canary whose bad
   * ratio exceeds the baseline's by more than `maxExtraBurn × (1 − objective)` fails when the difference is
   * significant. @default 1
   */
  readonly maxExtraBurn?: number;
  /** The canary fails when its own burn rate is above this (and the baseline's is not). @default 14.4 */
  readonly maxBurnRate?: number;
}

/**
 * One comparison's outcome.
 * @example
 * ```ts
 * const check: CanaryCheck = judgement.checks[0]!;
 * ```
 */
export interface CanaryCheck {
  readonly name: string;
  readonly kind: 'slo' | 'burn-rate' | 'metric';
  readonly verdict: CanaryVerdict;
  readonly reason: string;
  /** The comparison's p-value, when a test ran. */
  readonly pValue?: number;
}

/**
 * The judge's answer: `pass` promotes, `fail` rolls back, `inconclusive` waits for more data (or, at the end of a
 * step, holds the rollout).
 * @example
 * ```ts
 * const verdict: CanaryVerdict = 'pass';
 * ```
 */
export type CanaryVerdict = 'pass' | 'fail' | 'inconclusive';

/**
 * The judge's answer with every check and its reason.
 * @example
 * ```ts
 * const judgement: CanaryJudgement = judgeCanary({ slos: [slo] });
 * if (judgement.verdict === 'fail') console.log(judgement.reasons.join('\n'));
 * ```
 */
export interface CanaryJudgement {
  readonly verdict: CanaryVerdict;
  readonly checks: readonly CanaryCheck[];
  /** The reasons of the checks that decided the verdict (all of them on a pass). */
  readonly reasons: readonly string[];
}

/**
 * What the judge compares.
 * @example
 * ```ts
 * const input: CanaryJudgeInput = { slos: [slo], metrics: [latency], options: { alpha: 0.01 } };
 * ```
 */
export interface CanaryJudgeInput {
  readonly slos?: readonly CanarySloInput[];
  readonly metrics?: readonly CanaryMetricInput[];
  readonly options?: CanaryJudgeOptions;
}

const pct = (v: number) => `${(v * 100).toFixed(v < 0.01 ? 3 : 2)}%`;
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

function checkCounts(where: string, counts: CanaryCounts): void {
  if (typeof counts !== 'object' || counts === null)
    throw invalidOption(where, 'an object { good, total }', counts);
  const total = checkNumber(`${where}.total`, counts.total, 0, { min: 0 });
  checkNumber(`${where}.good`, counts.good, 0, { min: 0, max: total });
}

function badRatio(c: CanaryCounts): number {
  return c.total === 0 ? 0 : (c.total - c.good) / c.total;
}

function judgeSlo(slo: CanarySloInput, o: Required<CanaryJudgeOptions>): CanaryCheck[] {
  const where = `slos[${slo.name}]`;
  if (typeof slo.objective !== 'number' || !(slo.objective > 0 && slo.objective < 1)) {
    throw invalidOption(`${where}.objective`, 'a number in (0, 1)', slo.objective);
  }
  checkCounts(`${where}.baseline`, slo.baseline);
  checkCounts(`${where}.canary`, slo.canary);
  const budget = 1 - slo.objective;
  const canaryRatio = badRatio(slo.canary);
  const baselineRatio = badRatio(slo.baseline);
  const canaryBurn = canaryRatio / budget;
  const baselineBurn = baselineRatio / budget;
  const enough = slo.canary.total >= o.minEvents && slo.baseline.total >= o.minEvents;
  const shown = `canary ${pct(canaryRatio)} bad of ${slo.canary.total}, baseline ${pct(baselineRatio)} of ${slo.baseline.total}`;

  const pValue = fisherGreaterPValue(
    slo.canary.total - slo.canary.good,
    slo.canary.total,
    slo.baseline.total - slo.baseline.good,
    slo.baseline.total,
  );
  const worse = canaryRatio - baselineRatio > o.maxExtraBurn * budget;
  let comparison: CanaryCheck;
  // Far worse with few events still fails: a tenth of alpha keeps false rollbacks as rare as at full sample.
  if (worse && (enough ? pValue < o.alpha : pValue < o.alpha / 10)) {
    comparison = {
      name: slo.name,
      kind: 'slo',
      verdict: 'fail',
      pValue,
      reason: `${slo.name}: canary worse than baseline (${shown}; p=${pValue.toExponential(1)})`,
    };
  } else if (!enough) {
    comparison = {
      name: slo.name,
      kind: 'slo',
      verdict: 'inconclusive',
      pValue,
      reason: `${slo.name}: too few events to judge (${shown}; need ${o.minEvents} each)`,
    };
  } else {
    comparison = {
      name: slo.name,
      kind: 'slo',
      verdict: 'pass',
      pValue,
      reason: `${slo.name}: canary no worse than baseline (${shown})`,
    };
  }

  let burn: CanaryCheck;
  const burnShown = `canary burn rate ${fmt(canaryBurn)}, baseline ${fmt(baselineBurn)}, limit ${fmt(o.maxBurnRate)}`;
  if (slo.canary.total < o.minEvents) {
    burn = {
      name: slo.name,
      kind: 'burn-rate',
      verdict: 'inconclusive',
      reason: `${slo.name}: too few canary events for its burn rate (${slo.canary.total} of ${o.minEvents})`,
    };
  } else if (canaryBurn > o.maxBurnRate && baselineBurn > o.maxBurnRate) {
    burn = {
      name: slo.name,
      kind: 'burn-rate',
      verdict: 'inconclusive',
      reason: `${slo.name}: both versions burn the budget too fast to blame the canary (${burnShown})`,
    };
  } else if (canaryBurn > o.maxBurnRate) {
    burn = {
      name: slo.name,
      kind: 'burn-rate',
      verdict: 'fail',
      reason: `${slo.name}: canary burns its error budget too fast (${burnShown})`,
    };
  } else {
    burn = { name: slo.name, kind: 'burn-rate', verdict: 'pass', reason: `${slo.name}: ${burnShown}` };
  }
  return [comparison, burn];
}

function judgeMetric(metric: CanaryMetricInput, o: Required<CanaryJudgeOptions>): CanaryCheck {
  const where = `metrics[${metric.name}]`;
  const tolerance = checkNumber(`${where}.tolerance`, metric.tolerance, 0.2, { min: 0 });
  const allowed = checkNumber(`${where}.allowedIncrease`, metric.allowedIncrease, 0, { min: 0 });
  for (const side of ['baseline', 'canary'] as const) {
    const values = metric[side];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw invalidOption(`${where}.${side}`, 'an array of finite numbers', values);
    }
  }
  if (metric.canary.length < o.minIntervals || metric.baseline.length < o.minIntervals) {
    return {
      name: metric.name,
      kind: 'metric',
      verdict: 'inconclusive',
      reason: `${metric.name}: too few intervals to judge (canary ${metric.canary.length}, baseline ${metric.baseline.length}; need ${o.minIntervals} each)`,
    };
  }
  const test = mannWhitneyGreater(metric.canary, metric.baseline);
  const canaryMedian = median(metric.canary);
  const baselineMedian = median(metric.baseline);
  const limit = Math.max(baselineMedian * (1 + tolerance), baselineMedian + allowed);
  const shown = `median canary ${fmt(canaryMedian)}, baseline ${fmt(baselineMedian)}, limit ${fmt(limit)}`;
  if (test.pValue < o.alpha && canaryMedian > limit) {
    return {
      name: metric.name,
      kind: 'metric',
      verdict: 'fail',
      pValue: test.pValue,
      reason: `${metric.name}: canary higher than baseline (${shown}; p=${test.pValue.toExponential(1)})`,
    };
  }
  return {
    name: metric.name,
    kind: 'metric',
    verdict: 'pass',
    pValue: test.pValue,
    reason: `${metric.name}: canary within tolerance (${shown})`,
  };
}

/**
 * Judges a canary against its baseline over the same interval, in the manner of Kayenta and Argo Rollouts'
 * analysis: for each SLO, Fisher's exact test on bad events (a canary fails when it is significantly worse by
 * more than a budget's worth of burn) and the canary's own burn rate; for each metric series, a Mann-Whitney U test
 * and a tolerance on the median. Any failed check fails the canary; any check short of data makes it
 * inconclusive; otherwise it passes.
 *
 * @example
 * ```ts
 * import { judgeCanary } from '@ballast/slo';
 * const judgement = judgeCanary({
 *   slos: [{ name: 'checkout', objective: 0.999,
 *     baseline: { good: 9_990, total: 10_000 }, canary: { good: 470, total: 500 } }],
 * });
 * judgement.verdict; // 'fail'
 * ```
 */
export function judgeCanary(input: CanaryJudgeInput): CanaryJudgement {
  const raw = input.options ?? {};
  const o: Required<CanaryJudgeOptions> = {
    alpha: checkNumber('options.alpha', raw.alpha, 0.01, { above: 0, max: 0.5 }),
    minEvents: checkNumber('options.minEvents', raw.minEvents, 100, { min: 1 }),
    minIntervals: checkNumber('options.minIntervals', raw.minIntervals, 8, { min: 2 }),
    maxExtraBurn: checkNumber('options.maxExtraBurn', raw.maxExtraBurn, 1, { min: 0 }),
    maxBurnRate: checkNumber('options.maxBurnRate', raw.maxBurnRate, 14.4, { above: 0 }),
  };
  const checks = [
    ...(input.slos ?? []).flatMap((slo) => judgeSlo(slo, o)),
    ...(input.metrics ?? []).map((metric) => judgeMetric(metric, o)),
  ];
  if (checks.length === 0) throw invalidOption('input', 'at least one SLO or metric to judge', input);
  const failed = checks.filter((c) => c.verdict === 'fail');
  const unsure = checks.filter((c) => c.verdict === 'inconclusive');
  const verdict: CanaryVerdict = failed.length > 0 ? 'fail' : unsure.length > 0 ? 'inconclusive' : 'pass';
  const deciding = verdict === 'fail' ? failed : verdict === 'inconclusive' ? unsure : checks;
  return { verdict, checks, reasons: deciding.map((c) => c.reason) };
}
