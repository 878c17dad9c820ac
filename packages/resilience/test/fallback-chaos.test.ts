import { ManualClock } from '@ballast/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { BulkheadPolicy } from '../src/bulkhead/BulkheadPolicy.js';
import { ChaosPolicy, chaosEnabledByEnv } from '../src/chaos/ChaosPolicy.js';
import { CircuitBreakerPolicy } from '../src/circuit-breaker/CircuitBreakerPolicy.js';
import { isChaosError } from '../src/chaos/ChaosError.js';
import type { PolicyEvent } from '@ballast/core';
import { FallbackPolicy } from '../src/fallback/FallbackPolicy.js';
import { pipeline } from '../src/Pipeline.js';

describe('FallbackPolicy', () => {
  it('serves the fallback for refusals, typed as T | F, and emits a fallback event', async () => {
    const breaker = new CircuitBreakerPolicy({ clock: new ManualClock(0) });
    breaker.isolate();
    const fallback = new FallbackPolicy({ fallback: () => 'cached' as const });
    const events: PolicyEvent[] = [];
    fallback.onEvent((e) => events.push(e));
    const p = pipeline(fallback, breaker);
    const result = await p.execute(() => 42);
    expectTypeOf(result).toEqualTypeOf<number | 'cached'>();
    expect(result).toBe('cached');
    expect(events[0]).toMatchObject({ type: 'fallback', kind: 'fallback' });
  });

  it('lets ordinary errors through by default, so bugs still surface', async () => {
    const fallback = new FallbackPolicy({ fallback: () => 0 });
    await expect(fallback.execute(() => Promise.reject(new TypeError('bug')))).rejects.toThrow('bug');
  });

  it('handles what its predicate says and passes the error to the fallback', async () => {
    const fallback = new FallbackPolicy({ fallback: (e) => (e as Error).message, handles: () => true });
    await expect(fallback.execute(() => Promise.reject(new Error('down')))).resolves.toBe('down');
  });

  it('handles a full bulkhead', async () => {
    const bulkhead = new BulkheadPolicy({ limit: 1, clock: new ManualClock(0) });
    const p = pipeline(new FallbackPolicy({ fallback: () => 'busy' }), bulkhead);
    let release!: () => void;
    const first = p.execute(() => new Promise<string>((r) => (release = () => r('done'))));
    await expect(p.execute(() => 'second')).resolves.toBe('busy');
    release();
    await expect(first).resolves.toBe('done');
  });
});

describe('ChaosPolicy', () => {
  const env = {};
  it('is off by default and costs nothing when off', async () => {
    let drawn = 0;
    const chaos = new ChaosPolicy({ fault: { kind: 'error' }, rate: 1, env, random: () => (drawn++, 0) });
    await expect(chaos.execute(() => 'real')).resolves.toBe('real');
    expect(drawn).toBe(0);
  });

  it('injects errors at the configured rate with the injected random source', async () => {
    const draws = [0.05, 0.5, 0.09, 0.95];
    const chaos = new ChaosPolicy({
      fault: { kind: 'error' },
      rate: 0.1,
      enabled: true,
      random: () => draws.shift()!,
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await chaos
          .execute(() => 'ok')
          .then(
            (v) => v,
            (e: unknown) => (isChaosError(e) ? 'chaos' : 'other'),
          ),
      );
    }
    expect(outcomes).toEqual(['chaos', 'ok', 'chaos', 'ok']);
  });

  it('injects a chosen result (typed) and latency from the injected clock; switchable at run time', async () => {
    const result = new ChaosPolicy({ fault: { kind: 'result', value: 'stub' as const }, rate: 1, env });
    result.enabled = true;
    const r = await result.execute(() => 1);
    expectTypeOf(r).toEqualTypeOf<number | 'stub'>();
    expect(r).toBe('stub');
    result.enabled = false;
    await expect(result.execute(() => 1)).resolves.toBe(1);

    const clock = new ManualClock(0);
    const latency = new ChaosPolicy({ fault: { kind: 'latency', ms: 500 }, rate: 1, enabled: true, clock });
    const events: PolicyEvent[] = [];
    latency.onEvent((e) => events.push(e));
    let done = false;
    const p = latency.execute(() => 'slow').then((v) => ((done = true), v));
    await clock.advanceAsync(499);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    await expect(p).resolves.toBe('slow');
    expect(events).toEqual([{ policy: 'chaos', kind: 'chaos', type: 'chaos', fault: 'latency' }]);
    expect(() => (latency.rate = 2)).toThrow(TypeError);
  });

  it.each([
    [undefined, 'payments', false],
    ['1', 'payments', true],
    ['all', 'payments', true],
    ['inventory, payments', 'payments', true],
    ['inventory', 'payments', false],
    ['0', 'payments', false],
  ])('BALLAST_CHAOS=%s for %s -> %s', (value, name, expected) => {
    expect(chaosEnabledByEnv(name, { BALLAST_CHAOS: value })).toBe(expected);
    const chaos = new ChaosPolicy({ name, fault: { kind: 'error' }, env: { BALLAST_CHAOS: value } });
    expect(chaos.enabled).toBe(expected);
  });
});
