import { describe, expect, it } from 'vitest';
import { canarySensitivity, summarise, type RolloutScenario } from '../proof/canary-sensitivity.js';

const failing = { name: 'failing', checkoutFailure: 0.2, addedLatencyMs: 0 };
const good = { name: 'good', checkoutFailure: 0.0005, addedLatencyMs: 0 };
const scenario = (o: Partial<RolloutScenario>): RolloutScenario => ({
  rate: 60,
  steps: [0.05, 0.25, 0.5, 1],
  stepSec: 20,
  build: failing,
  minEvents: 25,
  ...o,
});

describe('the canary sensitivity study', () => {
  it('is reproducible: the same seed gives the same summary', () => {
    expect(summarise(scenario({}), 30, 7)).toEqual(summarise(scenario({}), 30, 7));
  });

  it('rolls back a build that fails a fifth of its checkouts, sooner at higher traffic', () => {
    const slow = summarise(scenario({ rate: 15 }), 60, 1);
    const fast = summarise(scenario({ rate: 240 }), 60, 1);
    expect(fast.rolledBack).toBe(60);
    expect(fast.decidedP50Sec).toBeLessThan(slow.decidedP50Sec);
  });

  it('harms about as many requests whatever the traffic: the judge needs a number of bad events, not a time', () => {
    const low = summarise(scenario({ rate: 30 }), 80, 2);
    const high = summarise(scenario({ rate: 240 }), 80, 2);
    expect(Math.abs(high.harmedP50 - low.harmedP50)).toBeLessThanOrEqual(3);
    expect(high.harmedShareP50).toBeLessThan(low.harmedShareP50);
  });

  it('rarely rolls back a good build at the drill rate, and promotes it', () => {
    // The judge's own false-positive rate is about half a percent a rollout: a bound over 400 trials, not a
    // seed that happens to draw none.
    const s = summarise(scenario({ build: good }), 400, 3);
    expect(s.rolledBack / s.trials).toBeLessThanOrEqual(0.02);
    expect(s.promoted / s.trials).toBeGreaterThan(0.95);
  });

  it('holds rather than promotes when the traffic is too thin to judge', () => {
    const s = summarise(scenario({ build: good, rate: 5, steps: [0.01, 0.25, 0.5, 1] }), 40, 4);
    expect(s.held).toBe(40);
    expect(s.promoted).toBe(0);
  });

  it('reports every rate, first share and build it was asked for', () => {
    const study = canarySensitivity({ rates: [30], firstShares: [0.05], minEvents: [25], trials: 5 });
    expect(study.rows.map((r) => `${r.rate}/${r.firstShare}/${r.build}`)).toEqual([
      '30/0.05/failing',
      '30/0.05/slow',
      '30/0.05/good',
    ]);
    expect(study.byMinEvents).toHaveLength(3);
  });
});
