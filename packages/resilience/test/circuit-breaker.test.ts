import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { CircuitBreakerPolicy, httpFailure } from '../src/circuit-breaker/CircuitBreakerPolicy.js';
import { ConsecutiveBreaker } from '../src/circuit-breaker/ConsecutiveBreaker.js';
import { CountWindowBreaker } from '../src/circuit-breaker/CountWindowBreaker.js';
import { databaseFailure, presets } from '../src/circuit-breaker/presets.js';
import { TimeWindowBreaker } from '../src/circuit-breaker/TimeWindowBreaker.js';
import { isBrokenCircuitError } from '../src/circuit-breaker/BrokenCircuitError.js';
import { isRejectedError } from '../src/common/rejection.js';
import type { PolicyEvent } from '@ballast/core';

const boom = (status?: number): Error => Object.assign(new Error(`status ${status}`), { status });
const fail = (error: Error) => (): Promise<never> => Promise.reject(error);
const ok = (): Promise<string> => Promise.resolve('ok');

async function settle(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (e: unknown) => e,
  );
}

describe('CircuitBreakerPolicy', () => {
  it('opens, refuses with a branded error, then probes and closes (state read lazily)', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy({
      name: 'inventory',
      clock,
      breaker: new ConsecutiveBreaker({ threshold: 2 }),
      halfOpenAfterMs: 1_000,
    });
    await settle(breaker.execute(fail(boom(500))));
    await settle(breaker.execute(fail(boom(500))));
    expect(breaker.state).toBe('open');
    const refused = await settle(breaker.execute(ok));
    expect(isBrokenCircuitError(refused)).toBe(true);
    expect(isRejectedError(refused)).toBe(true);
    expect(refused).toMatchObject({ reason: 'circuit-open', retryAfterMs: 1_000 });
    expect(String((refused as Error).message)).toContain('inventory');
    clock.set(1_000); // no timer fires: the state is computed on read
    expect(breaker.state).toBe('half-open');
    expect(breaker.retryAfterMs).toBe(0);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('counts only what the failure predicate says (4xx do not, 5xx and timeouts do)', async () => {
    const breaker = new CircuitBreakerPolicy({
      clock: new ManualClock(0),
      breaker: new ConsecutiveBreaker({ threshold: 2 }),
      isFailure: httpFailure,
    });
    for (let i = 0; i < 5; i++) await settle(breaker.execute(fail(boom(404))));
    expect(breaker.state).toBe('closed');
    await settle(breaker.execute(fail(boom(503))));
    await settle(breaker.execute(fail(new Error('socket hang up'))));
    expect(breaker.state).toBe('open');
    expect([400, 404, 408, 429, 500, 503, undefined].map((s) => httpFailure(boom(s)))).toEqual([
      false,
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it('counts slow calls against the slow-call rate', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy({
      clock,
      breaker: new CountWindowBreaker({ size: 4, minimumCalls: 4, slowCallRateThreshold: 0.5 }),
      slowCallDurationMs: 100,
    });
    const slow = (): Promise<string> =>
      new Promise((resolve) => clock.setTimeout(() => resolve('late'), 150));
    for (let i = 0; i < 2; i++) await breaker.execute(ok);
    const a = breaker.execute(slow);
    await clock.advanceAsync(150);
    await a;
    expect(breaker.state).toBe('closed');
    const b = breaker.execute(slow);
    await clock.advanceAsync(150);
    await expect(b).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });

  it('half-open admits N probes, refuses the rest with half-open-full, and needs the success threshold', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy({
      clock,
      breaker: new ConsecutiveBreaker({ threshold: 1 }),
      halfOpenAfterMs: 10,
      halfOpenProbes: 2,
      successThreshold: 2,
    });
    await settle(breaker.execute(fail(boom())));
    clock.set(10);
    const release: (() => void)[] = [];
    const held = (): Promise<void> => new Promise<void>((resolve) => release.push(resolve));
    const p1 = breaker.execute(held);
    const p2 = breaker.execute(held);
    const p3 = await settle(breaker.execute(held));
    expect(p3).toMatchObject({ reason: 'half-open-full' });
    release[0]!();
    await p1;
    expect(breaker.state).toBe('half-open');
    release[1]!();
    await p2;
    expect(breaker.state).toBe('closed');
  });

  it('isolate() refuses until reset()', async () => {
    const breaker = new CircuitBreakerPolicy({ clock: new ManualClock(0) });
    breaker.isolate();
    expect(await settle(breaker.execute(ok))).toMatchObject({
      reason: 'circuit-isolated',
      retryAfterMs: undefined,
    });
    breaker.reset();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('emits success, failure, rejected and state-change events only to listeners', async () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy({
      name: 'db',
      clock,
      breaker: new ConsecutiveBreaker({ threshold: 1 }),
    });
    const events: PolicyEvent[] = [];
    const sub = breaker.onEvent((e) => events.push(e));
    await breaker.execute(ok);
    await settle(breaker.execute(fail(boom(500))));
    await settle(breaker.execute(ok));
    sub.dispose();
    await settle(breaker.execute(ok));
    expect(events.map((e) => e.type)).toEqual(['success', 'failure', 'state-change', 'rejected']);
    expect(events[1]).toMatchObject({ policy: 'db', kind: 'circuit-breaker', counted: true, durationMs: 0 });
    expect(events[2]).toMatchObject({ from: 'closed', to: 'open' });
    expect(events[3]).toMatchObject({ reason: 'circuit-open' });
  });

  it('carries its state across a restart with toJSON() and the state option', async () => {
    const clock = new ManualClock(5_000);
    const make = (state?: ReturnType<CircuitBreakerPolicy['toJSON']>) =>
      new CircuitBreakerPolicy({
        clock,
        breaker: new TimeWindowBreaker({ windowMs: 10_000, minimumCalls: 2 }),
        halfOpenAfterMs: 1_000,
        halfOpenBackoff: { multiplier: 2, maxMs: 8_000 },
        ...(state ? { state } : {}),
      });
    const first = make();
    await settle(first.execute(fail(boom())));
    await settle(first.execute(fail(boom())));
    expect(first.state).toBe('open');
    const saved = JSON.parse(JSON.stringify(first)) as ReturnType<CircuitBreakerPolicy['toJSON']>;
    const second = make(saved);
    expect(second.state).toBe('open');
    expect(second.retryAfterMs).toBe(1_000);
    expect(() => second.hydrate({ nope: true } as never)).toThrow(TypeError);
  });

  it('a circuit saved half-open restores as due for a fresh probe', () => {
    const clock = new ManualClock(0);
    const breaker = new CircuitBreakerPolicy({
      clock,
      state: {
        name: 'x',
        state: 'half-open',
        openedAt: 0,
        openMs: 1_000,
        breaker: { kind: 'consecutive', count: 0 },
      },
    });
    expect(breaker.state).toBe('half-open');
  });

  it('a throwing failure predicate is reported, not thrown into the caller', async () => {
    const breaker = new CircuitBreakerPolicy({
      clock: new ManualClock(0),
      breaker: new ConsecutiveBreaker({ threshold: 1 }),
      isFailure: () => {
        throw new Error('bad predicate');
      },
    });
    const error = boom(500);
    expect(await settle(breaker.execute(fail(error)))).toBe(error);
    expect(breaker.state).toBe('open');
  });
});

describe('presets', () => {
  it.each([
    ['externalApi', presets.externalApi, 'time-window', 30_000],
    ['database', presets.database, 'count-window', 5_000],
    ['internalRpc', presets.internalRpc, 'time-window', 5_000],
  ] as const)('%s builds a breaker with the documented numbers', (_name, make, kind, openMs) => {
    const breaker = make({ clock: new ManualClock(0), name: 'dep' });
    expect(breaker.name).toBe('dep');
    expect(breaker.breaker.kind).toBe(kind);
    expect(breaker.toJSON().openMs).toBe(openMs);
  });

  it('databaseFailure counts connection and server trouble, not query errors', () => {
    const pg = (code: string): Error => Object.assign(new Error(code), { code });
    expect(databaseFailure(pg('08006'))).toBe(true);
    expect(databaseFailure(pg('53300'))).toBe(true);
    expect(databaseFailure(pg('ECONNREFUSED'))).toBe(true);
    expect(databaseFailure(pg('23505'))).toBe(false);
    expect(databaseFailure(pg('42601'))).toBe(false);
    expect(databaseFailure(new Error('timeout'))).toBe(true);
  });
});
