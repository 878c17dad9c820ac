import { seededRandom } from '@ballast/testkit';
import { describe, expect, it } from 'vitest';
import { judgeCanary, type CanarySloInput } from '../src/canary/judge.js';
import {
  fisherGreaterPValue,
  mannWhitneyGreater,
  median,
  normalUpperTail,
} from '../src/canary/statistics.js';

describe('canary statistics', () => {
  it('Fisher one-sided p-value matches the lady tasting tea (17/70)', () => {
    expect(fisherGreaterPValue(3, 4, 1, 4)).toBeCloseTo(17 / 70, 10);
    expect(fisherGreaterPValue(4, 4, 0, 4)).toBeCloseTo(1 / 70, 10);
  });

  it('Fisher stays exact at large counts and is 1 with no bad events', () => {
    expect(fisherGreaterPValue(0, 100_000, 0, 100_000)).toBe(1);
    const p = fisherGreaterPValue(50, 10_000, 50, 10_000);
    expect(p).toBeGreaterThan(0.4);
    expect(p).toBeLessThan(0.6);
    expect(fisherGreaterPValue(500, 10_000, 10, 100_000)).toBeLessThan(1e-100);
  });

  it('normal tail at known points', () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 6);
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 5);
    expect(normalUpperTail(-1.959964)).toBeCloseTo(0.975, 5);
  });

  it('Mann-Whitney: separated samples give U = n1·n2 and a small p; equal samples give 0.5 effect', () => {
    const low = Array.from({ length: 10 }, (_, i) => i);
    const high = Array.from({ length: 10 }, (_, i) => 100 + i);
    const r = mannWhitneyGreater(high, low);
    expect(r.u).toBe(100);
    expect(r.effect).toBe(1);
    // z = (100 - 50 - 0.5) / sqrt(100 · 21 / 12)
    expect(r.pValue).toBeCloseTo(normalUpperTail(49.5 / Math.sqrt(175)), 12);
    const same = mannWhitneyGreater([5, 5, 5, 5], [5, 5, 5, 5]);
    expect(same.effect).toBe(0.5);
    expect(same.pValue).toBe(1);
    expect(mannWhitneyGreater(low, high).pValue).toBeGreaterThan(0.99);
  });

  it('median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

const slo = (canary: [number, number], baseline: [number, number]): CanarySloInput => ({
  name: 'checkout-availability',
  objective: 0.999,
  canary: { good: canary[1] - canary[0], total: canary[1] },
  baseline: { good: baseline[1] - baseline[0], total: baseline[1] },
});

describe('judgeCanary', () => {
  it.each([
    // [name, canary bad/total, baseline bad/total, verdict]
    ['a build failing 5% of checkouts', [25, 500], [10, 10_000], 'fail'],
    ['a healthy canary', [1, 500], [10, 10_000], 'pass'],
    ['a canary slightly worse, within a budget of extra burn', [1, 1_000], [0, 10_000], 'pass'],
    ['too few canary events to tell', [0, 40], [10, 10_000], 'inconclusive'],
    ['a disastrous canary with few events still fails', [20, 40], [10, 10_000], 'fail'],
    ['both versions burning (a dependency outage)', [50, 500], [1_000, 10_000], 'inconclusive'],
  ] as const)('%s → %s', (_, canary, baseline, verdict) => {
    const judgement = judgeCanary({ slos: [slo([...canary], [...baseline])] });
    expect(judgement.verdict).toBe(verdict);
    expect(judgement.reasons.length).toBeGreaterThan(0);
    for (const reason of judgement.reasons) expect(reason).toContain('checkout-availability');
  });

  it('fails a build that adds 200 ms and passes one within tolerance', () => {
    const random = seededRandom(7);
    const series = (base: number) => Array.from({ length: 12 }, () => base + random() * 6);
    const slow = judgeCanary({
      metrics: [{ name: 'checkout p50 ms', baseline: series(20), canary: series(220) }],
    });
    expect(slow.verdict).toBe('fail');
    expect(slow.reasons[0]).toMatch(/checkout p50 ms: canary higher than baseline/);
    const same = judgeCanary({
      metrics: [{ name: 'checkout p50 ms', baseline: series(20), canary: series(21) }],
    });
    expect(same.verdict).toBe('pass');
    const short = judgeCanary({
      metrics: [{ name: 'checkout p50 ms', baseline: series(20), canary: [220, 230] }],
    });
    expect(short.verdict).toBe('inconclusive');
  });

  it('rarely rolls back a good build: at most 1% false failures over 2,000 seeded trials at alpha 0.01', () => {
    const random = seededRandom(20261206);
    const draw = (n: number, p: number) => {
      let bad = 0;
      for (let i = 0; i < n; i++) if (random() < p) bad++;
      return bad;
    };
    let failures = 0;
    const trials = 2_000;
    for (let t = 0; t < trials; t++) {
      // Same true error ratio (0.05%, half the budget) on both versions; the canary takes 5% of 10,000 requests.
      const judgement = judgeCanary({ slos: [slo([draw(500, 0.0005), 500], [draw(9_500, 0.0005), 9_500])] });
      if (judgement.verdict === 'fail') failures++;
    }
    expect(failures / trials).toBeLessThanOrEqual(0.01);
  });

  it('rejects bad input with the option template', () => {
    expect(() => judgeCanary({})).toThrow(/Expected `input` to be at least one SLO or metric/);
    expect(() => judgeCanary({ slos: [{ ...slo([0, 1], [0, 1]), objective: 1 }] })).toThrow(
      /Expected `slos\[checkout-availability\]\.objective` to be a number in \(0, 1\)/,
    );
    expect(() => judgeCanary({ slos: [{ ...slo([0, 1], [0, 1]), canary: { good: 5, total: 1 } }] })).toThrow(
      /canary\.good/,
    );
    expect(() => judgeCanary({ slos: [slo([0, 1], [0, 1])], options: { alpha: 2 } })).toThrow(
      /options\.alpha/,
    );
    expect(() => judgeCanary({ metrics: [{ name: 'm', baseline: [Number.NaN], canary: [] }] })).toThrow(
      /metrics\[m\]\.baseline/,
    );
  });
});

describe('canary matchers', () => {
  it('adds matchers to selectors and to every range selector of an expression', async () => {
    const { withMatchers } = await import('../src/canary/prometheus.js');
    expect(withMatchers('up', 'track="canary"')).toBe('up{track="canary"}');
    expect(withMatchers('up{job="a"}', 'track="canary"')).toBe('up{job="a",track="canary"}');
    expect(withMatchers('{job="a"}', 'track="canary"')).toBe('{job="a",track="canary"}');
    expect(withMatchers('up{}', 'track="canary"')).toBe('up{track="canary"}');
  });
});
