// The two tests a canary judge needs, written for the shapes of SLO data: counts of bad and total events (Fisher's
// exact test, one-sided) and per-interval values of a metric such as latency (the Mann-Whitney U test with the
// normal approximation and a tie correction, one-sided), as Kayenta's judge uses for metric series.

/** `ln(n!)` for integers, exact by summation up to a table and by Stirling's series beyond it. */
const LOG_FACTORIAL_TABLE: number[] = [0];
function logFactorial(n: number): number {
  if (n < 0) return Number.NaN;
  if (n < 1024) {
    for (let i = LOG_FACTORIAL_TABLE.length; i <= n; i++)
      LOG_FACTORIAL_TABLE[i] = LOG_FACTORIAL_TABLE[i - 1]! + Math.log(i);
    return LOG_FACTORIAL_TABLE[n]!;
  }
  // Stirling with three correction terms: relative error below 1e-15 for n >= 1024.
  const x = n + 1;
  return (
    (x - 0.5) * Math.log(x) -
    x +
    0.5 * Math.log(2 * Math.PI) +
    1 / (12 * x) -
    1 / (360 * x ** 3) +
    1 / (1260 * x ** 5)
  );
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * One-sided p-value of Fisher's exact test that the canary's bad-event ratio is greater than the baseline's: the
 * probability, with both groups drawn from one population, of the canary having at least `canaryBad` of all bad
 * events. Exact at any count, so it stays right for the rare errors of a healthy service.
 */
export function fisherGreaterPValue(
  canaryBad: number,
  canaryTotal: number,
  baselineBad: number,
  baselineTotal: number,
): number {
  const total = canaryTotal + baselineTotal;
  const bad = canaryBad + baselineBad;
  if (total === 0 || bad === 0) return 1;
  const denominator = logChoose(total, bad);
  const highest = Math.min(bad, canaryTotal);
  let p = 0;
  for (let k = canaryBad; k <= highest; k++) {
    const other = bad - k;
    if (other > baselineTotal) continue;
    p += Math.exp(logChoose(canaryTotal, k) + logChoose(baselineTotal, other) - denominator);
  }
  return Math.min(1, p);
}

/** The standard normal upper tail `P(Z > z)` (Abramowitz–Stegun 7.1.26 through `erfc`, error below 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** What the Mann-Whitney test found. */
export interface MannWhitneyResult {
  /** U of the canary sample. */
  readonly u: number;
  /** One-sided p-value that canary values tend to be greater than baseline values. */
  readonly pValue: number;
  /** `P(canary > baseline) + P(tie) / 2`: 0.5 when neither tends to be larger. */
  readonly effect: number;
}

/**
 * One-sided Mann-Whitney U test that `canary` values tend to be greater than `baseline` values (normal
 * approximation with continuity and tie corrections; use at least 8 values in each sample).
 */
export function mannWhitneyGreater(
  canary: readonly number[],
  baseline: readonly number[],
): MannWhitneyResult {
  const n1 = canary.length;
  const n2 = baseline.length;
  if (n1 === 0 || n2 === 0) return { u: 0, pValue: 1, effect: 0.5 };
  const all = [
    ...canary.map((v) => ({ v, canary: true })),
    ...baseline.map((v) => ({ v, canary: false })),
  ].sort((a, b) => a.v - b.v);
  let rankSum = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    const size = j - i + 1;
    tieTerm += size ** 3 - size;
    for (let k = i; k <= j; k++) if (all[k]!.canary) rankSum += rank;
    i = j + 1;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, pValue: 1, effect: u / (n1 * n2) };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { u, pValue: normalUpperTail(z), effect: u / (n1 * n2) };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
