import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, type LimiterPermit } from '../src/index.js';
import { VegasLimit, type VegasOptions } from '../src/shed/VegasLimit.js';

/** A Vegas limit that never probes on its own (the probe tests set `probeMultiplier`). */
const vegas = (options: VegasOptions = {}) => new VegasLimit({ probeMultiplier: 1e9, ...options });

/** A limit of `initialLimit` whose no-load RTT is 10 ms. */
function primed(options: VegasOptions = {}): VegasLimit {
  const limit = vegas(options);
  limit.update({ rttMs: 10, inFlight: 1, dropped: false });
  return limit;
}

/**
 * A saturated service of `capacity` workers and a 10 ms service time (processor sharing): with `n` calls in flight
 * each takes `10 * max(1, n / capacity)` ms. The client keeps the whole limit in flight.
 */
function saturate(limit: VegasLimit, capacity: number, samples: number, baseMs = 10): number[] {
  const seen: number[] = [];
  for (let i = 0; i < samples; i++) {
    const n = limit.limit;
    limit.update({ rttMs: baseMs * Math.max(1, n / capacity), inFlight: n, dropped: false });
    seen.push(limit.limit);
  }
  return seen;
}

describe('VegasLimit', () => {
  it.each([
    // Limit 20 (log10 = 1): threshold 1, alpha 3, beta 6, step 1; queue = ceil(limit * (1 - 10 / rtt)). One round is
    // 20 samples, each moving the limit by change / limit.
    { rttMs: 10, inFlight: 20, after: 25, why: 'no queue: about + beta a round' },
    { rttMs: 11, inFlight: 20, after: 20, why: 'queue 2 (below alpha): about + step a round' },
    { rttMs: 12, inFlight: 20, after: 20, why: 'queue 4 (alpha..beta): hold' },
    {
      rttMs: 20,
      inFlight: 20,
      after: 18,
      why: 'queue 10 (above beta): about - step a round (to just under 19)',
    },
    { rttMs: 10, inFlight: 9, after: 20, why: 'app limited (under half in flight): hold' },
  ])('$why', ({ rttMs, inFlight, after }) => {
    const limit = primed();
    for (let i = 0; i < 20; i++) limit.update({ rttMs, inFlight, dropped: false });
    expect(limit.limit).toBe(after);
    expect(limit.rttNoLoadMs).toBe(10);
  });

  it('moves by change / limit per sample (about one step a round)', () => {
    const limit = primed();
    // queue 2: + step (1) / 20 per sample; 21 samples take 20 to just over 21.
    for (let i = 0; i < 21; i++) limit.update({ rttMs: 11, inFlight: 20, dropped: false });
    expect(limit.limit).toBe(21);
  });

  it.each([
    { rttMs: 50, why: 'a slow drop' },
    { rttMs: 1, why: 'a fast drop: backs off, and is no new no-load RTT' },
  ])('backs off at once on $why (x0.9)', ({ rttMs }) => {
    const limit = primed();
    expect(limit.update({ rttMs, inFlight: 20, dropped: true })).toBe(18);
    expect(limit.rttNoLoadMs).toBe(10);
  });

  it('takes a faster sample as the new no-load RTT without moving the limit', () => {
    const limit = primed();
    expect(limit.update({ rttMs: 4, inFlight: 20, dropped: false })).toBe(20);
    expect(limit.rttNoLoadMs).toBe(4);
    // 10 ms is now a queue of ceil(20 * 0.6) = 12 > beta: shrink.
    expect(limit.update({ rttMs: 10, inFlight: 20, dropped: false })).toBe(19);
    expect(limit.rttNoLoadMs).toBe(4);
  });

  it('scales alpha, beta and the step with log10 of the limit', () => {
    // Limit 200 (log10 = 2): threshold 2, alpha 6, beta 12, step 2; one round of 200 samples.
    const round = (rttMs: number) => {
      const limit = primed({ initialLimit: 200, maxLimit: 1000 });
      for (let i = 0; i < 200; i++) limit.update({ rttMs, inFlight: 200, dropped: false });
      return limit.limit;
    };
    expect(round(10.05)).toBe(211); // queue 1: + beta (12) a round
    expect(round(10.2)).toBe(201); // queue 4: + step (2) a round
    expect(round(10.4)).toBe(200); // queue 8: hold
    expect(round(11)).toBe(197); // queue 19: - step a round (to just under 198)
  });

  it('never leaves [minLimit, maxLimit]', () => {
    const high = primed({ initialLimit: 30, maxLimit: 32 });
    for (let i = 0; i < 100; i++) high.update({ rttMs: 10, inFlight: 30, dropped: false });
    expect(high.limit).toBe(32);
    const low = primed({ initialLimit: 3, minLimit: 3 });
    expect(low.update({ rttMs: 100, inFlight: 3, dropped: true })).toBe(3);
    expect(low.update({ rttMs: 100, inFlight: 3, dropped: false })).toBe(3);
  });

  it('moves part of the way with smoothing', () => {
    const limit = primed({ initialLimit: 100, smoothing: 0.5 });
    // A drop: target 90, half way: 95.
    expect(limit.update({ rttMs: 10, inFlight: 100, dropped: true })).toBe(95);
  });

  it('ignores a zero RTT (coarse clock) and rejects a negative or infinite one', () => {
    const limit = primed();
    expect(limit.update({ rttMs: 0, inFlight: 20, dropped: false })).toBe(20);
    expect(limit.rttNoLoadMs).toBe(10);
    expect(() => limit.update({ rttMs: -1, inFlight: 1, dropped: false })).toThrow(
      new TypeError('Expected `sample.rttMs` to be a finite number >= 0, got `-1` (number)'),
    );
    expect(() => limit.update({ rttMs: Infinity, inFlight: 1, dropped: false })).toThrow(TypeError);
  });

  it.each([10, 50, 150])(
    'converges on a saturated service of capacity %i to a few calls queued',
    (capacity) => {
      const limit = primed({ maxLimit: 1000 });
      const seen = saturate(limit, capacity, 2000);
      const settled = seen.slice(-500);
      const alpha = 3 * Math.max(1, Math.floor(Math.log10(capacity)));
      const beta = 2 * alpha;
      // queue = limit - capacity once the limit exceeds the capacity; Vegas holds it in [alpha, beta] (+ one step).
      const step = Math.max(1, Math.floor(Math.log10(capacity)));
      for (const l of settled) {
        expect(l - capacity).toBeGreaterThanOrEqual(alpha - step);
        expect(l - capacity).toBeLessThanOrEqual(beta + step);
      }
    },
  );

  it('backs off on a run of drops and grows again after', () => {
    const limit = primed({ initialLimit: 100, maxLimit: 1000 });
    for (let i = 0; i < 10; i++) limit.update({ rttMs: 500, inFlight: 100, dropped: true });
    expect(limit.limit).toBe(Math.floor(100 * 0.9 ** 10)); // 34
    saturate(limit, 50, 300);
    expect(limit.limit).toBeGreaterThanOrEqual(52);
  });

  it('re-probes: halves the limit for a round and re-measures the no-load RTT when the service slows for good', () => {
    // probeMultiplier 30 and jitter 0.5 (random() = 0): a probe after 15 * limit samples.
    const limit = new VegasLimit({ initialLimit: 20, maxLimit: 1000, probeMultiplier: 30, random: () => 0 });
    limit.update({ rttMs: 10, inFlight: 1, dropped: false });
    saturate(limit, 50, 600);
    const before = limit.limit;
    expect(before).toBeGreaterThanOrEqual(52);
    // The service becomes twice as slow for good (a slower disk): every call now looks queued.
    let probed = false;
    let lowest = Infinity;
    for (let i = 0; i < 5000 || limit.probing; i++) {
      const n = limit.limit;
      limit.update({ rttMs: 20 * Math.max(1, n / 50), inFlight: n, dropped: false });
      if (limit.probing) {
        probed = true;
        lowest = Math.min(lowest, limit.limit);
      }
    }
    expect(probed).toBe(true);
    expect(lowest).toBeLessThanOrEqual(Math.ceil(before / 2) + 1);
    // Re-measured within the halved limit: 20 ms, not a queued RTT.
    expect(limit.rttNoLoadMs).toBe(20);
    // Back near the capacity (the capacity in calls did not change, only their duration).
    expect(limit.limit - 50).toBeGreaterThanOrEqual(2);
    expect(limit.limit - 50).toBeLessThanOrEqual(7);
  });

  it('does not ratchet up across probes under sustained load', () => {
    const limit = new VegasLimit({
      initialLimit: 20,
      maxLimit: 1000,
      probeMultiplier: 30,
      random: () => 0.5,
    });
    limit.update({ rttMs: 10, inFlight: 1, dropped: false });
    const seen = saturate(limit, 50, 20_000);
    // Many probes ran (each after ~22 * limit samples); outside them the limit stays where a few calls queue.
    const outsideProbes = seen.slice(-5000).filter((l) => l > 30);
    expect(Math.max(...outsideProbes)).toBeLessThanOrEqual(57);
    expect(limit.rttNoLoadMs).toBe(10);
  });

  it('drives a ConcurrencyLimiter on a ManualClock toward the capacity of a simulated queue', () => {
    // 1 ms ticks; a service of 40 workers and 10 ms of work per call (processor sharing); the client keeps trying
    // to send 10 calls a tick (4x the capacity of 4 a tick) with no queue in front of the limiter.
    const clock = new ManualClock(0);
    const algorithm = new VegasLimit({ initialLimit: 10, maxLimit: 1000, random: () => 0.5 });
    const limiter = new ConcurrencyLimiter({ clock, algorithm, queue: false });
    const running: { permit: LimiterPermit; left: number }[] = [];
    const limits: number[] = [];
    let completed = 0;
    for (let tick = 0; tick < 20_000; tick++) {
      for (let i = 0; i < 10; i++) {
        const permit = limiter.tryAcquire('critical');
        if (permit) running.push({ permit, left: 10 });
      }
      clock.advance(1);
      const share = Math.min(1, 40 / Math.max(1, running.length));
      for (let i = running.length - 1; i >= 0; i--) {
        const call = running[i]!;
        call.left -= share;
        if (call.left <= 1e-9) {
          call.permit.success();
          running.splice(i, 1);
          if (tick >= 10_000) completed++;
        }
      }
      if (tick >= 10_000) limits.push(limiter.limit);
    }
    // Full throughput (4 calls a ms) in the second half, with the limit a few calls above the 40 workers.
    expect(completed / 10_000).toBeGreaterThan(3.7);
    const median = [...limits].sort((a, b) => a - b)[limits.length >> 1]!;
    expect(median).toBeGreaterThanOrEqual(42);
    expect(median).toBeLessThanOrEqual(50);
  });

  it.each([
    [{ minLimit: 0 }, 'Expected `minLimit` to be an integer >= 1, got `0` (number)'],
    [{ initialLimit: 500 }, 'Expected `initialLimit` to be an integer >= 1 <= 200, got `500` (number)'],
    [{ backoffRatio: 1 }, 'Expected `backoffRatio` to be a number >= 0.5 and < 1, got `1` (number)'],
    [{ smoothing: 0 }, 'Expected `smoothing` to be a finite number > 0 <= 1, got `0` (number)'],
    [{ alpha: 6, beta: 3 }, 'Expected `beta` to be a number >= alpha (6), got `3` (number)'],
    [{ alpha: -1 }, 'Expected `alpha` to be a finite number >= 0, got `-1` (number)'],
    [{ beta: 'six' }, 'Expected `beta` to be a function, got `"six"` (string)'],
    [{ probeMultiplier: 0 }, 'Expected `probeMultiplier` to be a finite number > 0, got `0` (number)'],
    [{ random: 1 }, 'Expected `random` to be a function, got `1` (number)'],
  ])('rejects bad options %j', (options, message) => {
    expect(() => new VegasLimit(options as never)).toThrow(new TypeError(message));
  });
});
