import { parseDuration } from '../duration.js';
import type { BurnRateCondition, Slo } from '../model.js';

/**
 * A model of how Prometheus evaluates the generated rules on synthetic counters that move once per step, used to
 * place the assertions of the generated promtool tests. It predicts, for each step, whether an alert is surely
 * firing or surely not, allowing for the two readings of a range's edge (a window of `m` steps holds `m` or
 * `m - 1` increments) and a relative margin on every threshold; steps where the prediction is not sure get no
 * assertion. Like the rules, a window longer than the recorded history (which starts at the first sample with a
 * 5m rate, sample 1) is scaled by history / window.
 */

/** Events added to the counters at each step (index 0 is the first step after the starting sample). */
export interface Traffic {
  readonly bad: readonly number[];
  readonly total: readonly number[];
}

/** Whether an alert is surely firing, surely not, or too close to a threshold to say. */
export type Prediction = 'firing' | 'quiet' | 'unsure';

const MARGIN = 0.03;

function prefix(values: readonly number[]): number[] {
  const out = [0];
  for (const v of values) out.push(out.at(-1)! + v);
  return out;
}

/**
 * Predicts an SLO's alerts of one severity over `traffic` sampled every `stepMs`: the returned array has one
 * entry per sample (index 0 is the starting sample, where nothing can fire).
 */
export function predictAlerts(
  slo: Slo,
  conditions: readonly BurnRateCondition[],
  traffic: Traffic,
  stepMs: number,
): Prediction[] {
  const n = traffic.total.length;
  const bad = prefix(traffic.bad);
  const total = prefix(traffic.total);
  const budget = 1 - slo.objective;
  const steps = (ms: number): number => Math.max(1, Math.round(ms / stepMs));

  // Error ratio over the last `m` increments ending at sample `s`, for both readings of the range edge.
  let ratio: (s: number, m: number) => number;
  if (slo.budgeting.method === 'Timeslices') {
    const slice = steps(slo.budgeting.timesliceWindowMs);
    const limit = 1 - slo.budgeting.timesliceTarget;
    // One recorded "bad slice" flag per sample from 1 on; NaN for a slice without events (not recorded).
    const flags: number[] = [NaN];
    for (let s = 1; s <= n; s++) {
      const lo = Math.max(0, s - slice);
      const t = total[s]! - total[lo]!;
      flags.push(t > 0 ? ((bad[s]! - bad[lo]!) / t > limit ? 1 : 0) : NaN);
    }
    const flagSum = prefix(flags.map((f) => (Number.isNaN(f) ? 0 : f)));
    const flagCount = prefix(flags.map((f) => (Number.isNaN(f) ? 0 : 1)));
    // avg_over_time over the samples k in [s - m, s] (index k of `flags` is prefix entry k + 1).
    ratio = (s, m) => {
      const lo = Math.max(0, s - m);
      const count = flagCount[s + 1]! - flagCount[lo]!;
      return count === 0 ? NaN : (flagSum[s + 1]! - flagSum[lo]!) / count;
    };
  } else {
    ratio = (s, m) => {
      const lo = Math.max(0, s - m);
      return (bad[s]! - bad[lo]!) / (total[s]! - total[lo]!);
    };
  }
  const events = (s: number, m: number): number => total[s]! - total[Math.max(0, s - m)]!;

  const active: Prediction[] = ['quiet'];
  for (let s = 1; s <= n; s++) {
    let anySure = false;
    let allQuiet = true;
    for (const c of conditions) {
      const threshold = c.burnRate * budget;
      const guard = slo.alerting.minEvents;
      let sure = true;
      let quiet = false;
      for (const w of [c.longWindowMs, c.shortWindowMs]) {
        const m = steps(w);
        let above = true;
        let below = true;
        // The recorded history: from sample 1 (the first with a rate) to sample s.
        const held = Math.min(1, ((s - 1) * stepMs) / w);
        for (const mm of [m, m - 1]) {
          const r = ratio(s, Math.max(1, mm)) * held;
          const e = events(s, Math.max(1, mm));
          if (!(r > threshold * (1 + MARGIN)) || e < guard * (1 + MARGIN)) above = false;
          if (!(Number.isNaN(r) || r < threshold * (1 - MARGIN) || e < guard * (1 - MARGIN))) below = false;
        }
        if (!above) sure = false;
        if (below) quiet = true;
      }
      if (sure) anySure = true;
      if (!quiet) allQuiet = false;
    }
    active.push(anySure ? 'firing' : allQuiet ? 'quiet' : 'unsure');
  }

  // `for`: the alert fires once the condition has held for that long (the longest `for` of the severity).
  const forMs = Math.max(
    0,
    ...conditions.map((c) => (c.for === undefined ? 0 : (parseDuration(c.for) ?? 0))),
  );
  if (forMs === 0) return active;
  const hold = Math.ceil(forMs / stepMs);
  return active.map((state, s) => {
    if (state === 'quiet') return 'quiet';
    if (s < hold) return state === 'firing' ? 'unsure' : state;
    const window = active.slice(s - hold, s + 1);
    if (window.every((x) => x === 'firing')) return 'firing';
    return window.some((x) => x === 'quiet') && state !== 'firing' ? 'quiet' : 'unsure';
  });
}
