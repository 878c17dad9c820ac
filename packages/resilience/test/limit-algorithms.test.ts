import { describe, expect, it } from 'vitest';
import { AimdLimit } from '../src/shed/AimdLimit.js';
import { Gradient2Limit } from '../src/shed/Gradient2Limit.js';
import type { LimitSample } from '../src/shed/LimitAlgorithm.js';
import { rng } from './limit-rng.js';

function randomSamples(random: () => number, n: number, maxInFlight: number): LimitSample[] {
  const samples: LimitSample[] = [];
  let base = 5 + random() * 50;
  for (let i = 0; i < n; i++) {
    if (random() < 0.05) base = 5 + random() * 200; // regime change: load arrives or leaves
    samples.push({
      rttMs: base * (0.5 + random() * 2),
      inFlight: 1 + Math.floor(random() * maxInFlight),
      dropped: random() < 0.1,
    });
  }
  return samples;
}

describe('AimdLimit', () => {
  it.each([
    // [limit before, sample, limit after]
    {
      before: 10,
      sample: { rttMs: 10, inFlight: 5, dropped: false },
      after: 11,
      why: 'used half: grow by one',
    },
    { before: 10, sample: { rttMs: 10, inFlight: 4, dropped: false }, after: 10, why: 'app limited: hold' },
    { before: 10, sample: { rttMs: 10, inFlight: 9, dropped: true }, after: 9, why: 'drop: x0.9' },
    {
      before: 10,
      sample: { rttMs: 6000, inFlight: 9, dropped: false },
      after: 9,
      why: 'slower than timeout',
    },
    { before: 1, sample: { rttMs: 10, inFlight: 1, dropped: true }, after: 1, why: 'never below minLimit' },
    {
      before: 200,
      sample: { rttMs: 10, inFlight: 200, dropped: false },
      after: 200,
      why: 'never above maxLimit',
    },
  ])('$why ($before -> $after)', ({ before, sample, after }) => {
    const limit = new AimdLimit({ initialLimit: before });
    expect(limit.update(sample)).toBe(after);
    expect(limit.limit).toBe(after);
  });

  it('matches a reference model on random sample sequences', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = rng(seed);
      const min = 1 + Math.floor(random() * 5);
      const max = min + Math.floor(random() * 100);
      const backoff = 0.5 + random() * 0.49;
      const timeoutMs = 50 + random() * 300;
      let model = min + Math.floor(random() * (max - min + 1));
      const limit = new AimdLimit({
        minLimit: min,
        maxLimit: max,
        initialLimit: model,
        backoffRatio: backoff,
        timeoutMs,
      });
      const samples = randomSamples(random, 300, max);
      const expected = samples.map((s) => {
        if (s.dropped || s.rttMs > timeoutMs) model = Math.floor(model * backoff);
        else if (s.inFlight * 2 >= model) model += 1;
        return (model = Math.min(max, Math.max(min, model)));
      });
      expect(
        samples.map((s) => limit.update(s)),
        `seed ${seed}`,
      ).toEqual(expected);
    }
  });

  it.each([
    [{ backoffRatio: 1 }, 'Expected `backoffRatio` to be a number >= 0.5 and < 1, got `1` (number)'],
    [{ backoffRatio: 0.2 }, 'Expected `backoffRatio` to be a number >= 0.5 and < 1, got `0.2` (number)'],
    [{ minLimit: 0 }, 'Expected `minLimit` to be an integer >= 1, got `0` (number)'],
    [{ minLimit: 5, maxLimit: 4 }, 'Expected `maxLimit` to be an integer >= 5, got `4` (number)'],
    [{ initialLimit: 500 }, 'Expected `initialLimit` to be an integer >= 1 <= 200, got `500` (number)'],
    [{ timeoutMs: '5s' }, 'Expected `timeoutMs` to be a finite number > 0, got `"5s"` (string)'],
  ])('rejects bad options %j', (options, message) => {
    expect(() => new AimdLimit(options as never)).toThrow(new TypeError(message));
  });
});

/** Gradient2 written out plainly from the formulas in the docs, as an independent reference. */
function gradient2Model(o: {
  initial: number;
  min: number;
  max: number;
  smoothing: number;
  queue: number;
  window: number;
  tolerance: number;
}) {
  let estimate = o.initial;
  let longRtt = 0;
  const warm: number[] = [];
  return (s: LimitSample): number => {
    if (s.rttMs <= 0) return Math.floor(estimate);
    const move = (gradient: number) => {
      const target = estimate * gradient + o.queue;
      estimate = Math.min(o.max, Math.max(o.min, estimate * (1 - o.smoothing) + target * o.smoothing));
      return Math.floor(estimate);
    };
    // A drop backs off by the largest step (gradient 0.5) and leaves the long-term RTT alone.
    if (s.dropped) return move(0.5);
    if (warm.length < 10) {
      warm.push(s.rttMs);
      longRtt = warm.reduce((a, b) => a + b, 0) / warm.length;
    } else {
      const f = 2 / (o.window + 1);
      longRtt = longRtt * (1 - f) + s.rttMs * f;
    }
    if (longRtt / s.rttMs > 2) longRtt *= 0.95;
    if (s.inFlight < estimate / 2) return Math.floor(estimate);
    return move(Math.min(1, Math.max(0.5, (o.tolerance * longRtt) / s.rttMs)));
  };
}

describe('Gradient2Limit', () => {
  it('matches the reference model on random sample sequences', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = rng(seed * 7919);
      const o = {
        min: 1 + Math.floor(random() * 20),
        max: 0,
        initial: 0,
        smoothing: 0.05 + random() * 0.95,
        queue: Math.floor(random() * 8),
        window: 1 + Math.floor(random() * 600),
        tolerance: 1 + random(),
      };
      o.max = o.min + Math.floor(random() * 300);
      o.initial = o.min + Math.floor(random() * (o.max - o.min + 1));
      const model = gradient2Model(o);
      const limit = new Gradient2Limit({
        initialLimit: o.initial,
        minLimit: o.min,
        maxLimit: o.max,
        smoothing: o.smoothing,
        queueSize: o.queue,
        longWindow: o.window,
        rttTolerance: o.tolerance,
      });
      const samples = randomSamples(random, 400, o.max);
      const got = samples.map((s) => limit.update(s));
      expect(got, `seed ${seed}`).toEqual(samples.map((s) => model(s)));
      expect(Math.min(...got)).toBeGreaterThanOrEqual(o.min);
      expect(Math.max(...got)).toBeLessThanOrEqual(o.max);
    }
  });

  it('grows while latency holds and shrinks when latency doubles', () => {
    const limit = new Gradient2Limit({ initialLimit: 20, minLimit: 5, maxLimit: 100 });
    for (let i = 0; i < 50; i++) limit.update({ rttMs: 10, inFlight: limit.limit, dropped: false });
    const grown = limit.limit;
    expect(grown).toBeGreaterThan(20);
    for (let i = 0; i < 20; i++) limit.update({ rttMs: 40, inFlight: limit.limit, dropped: false });
    expect(limit.limit).toBeLessThan(grown);
  });

  it('does not move while the service is app limited (fewer than half the limit in flight)', () => {
    const limit = new Gradient2Limit({ initialLimit: 40, minLimit: 5 });
    for (let i = 0; i < 30; i++) limit.update({ rttMs: 100 + i * 50, inFlight: 3, dropped: false });
    expect(limit.limit).toBe(40);
  });

  it('takes a queue size function of the limit (Envoy-style sqrt headroom)', () => {
    const seen: number[] = [];
    const limit = new Gradient2Limit({
      initialLimit: 25,
      minLimit: 1,
      queueSize: (l) => (seen.push(l), Math.sqrt(l)),
    });
    limit.update({ rttMs: 10, inFlight: 25, dropped: false });
    expect(seen).toEqual([25]);
  });

  it.each([
    [{ smoothing: 0 }, 'Expected `smoothing` to be a finite number > 0 <= 1, got `0` (number)'],
    [{ rttTolerance: 0.9 }, 'Expected `rttTolerance` to be a finite number >= 1, got `0.9` (number)'],
    [{ queueSize: 'x' }, 'Expected `queueSize` to be a function, got `"x"` (string)'],
    [{ longWindow: 0 }, 'Expected `longWindow` to be an integer >= 1, got `0` (number)'],
  ])('rejects bad options %j', (options, message) => {
    expect(() => new Gradient2Limit(options as never)).toThrow(new TypeError(message));
  });

  it('rejects a negative RTT sample', () => {
    expect(() => new Gradient2Limit().update({ rttMs: -1, inFlight: 1, dropped: false })).toThrow(
      'Expected `sample.rttMs` to be a finite number >= 0, got `-1` (number)',
    );
  });
});
