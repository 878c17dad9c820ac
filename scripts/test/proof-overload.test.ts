import { describe, expect, it } from 'vitest';
import { bracketedAlone } from '../proof/overload.js';

// The overload goals divide by checkouts served alone, measured before Ballast's steps and again after them: the
// machine's speed moves within a run, and the mean of the two keeps that drift out of the ratio.
describe('checkouts alone, bracketing the measured steps', () => {
  it('is the mean of the two measurements, with the second one’s drift from the first', () => {
    const { rps, drift } = bracketedAlone(100, 80);
    expect(rps).toBe(90);
    expect(drift).toBeCloseTo(-0.2, 12);
    expect(bracketedAlone(80, 100).drift).toBeCloseTo(0.25, 12);
  });

  it('is the first measurement alone when there is no second (a run without the baseline)', () => {
    for (const after of [Number.NaN, 0]) {
      const { rps, drift } = bracketedAlone(107, after);
      expect(rps).toBe(107);
      expect(drift).toBeNaN();
    }
  });

  it('reports no drift from a first measurement that served nothing', () => {
    const { rps, drift } = bracketedAlone(0, 50);
    expect(rps).toBe(25);
    expect(drift).toBeNaN();
  });
});
