import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@ballast/core';
import { CircuitBreakerPolicy, Deadline } from '@ballast/resilience';
import { describe, expect, it } from 'vitest';
import { persistentBreaker } from '../examples/breaker-restart.js';
import { createPaymentsCall } from '../examples/chaos-drill.js';
import { DEADLINE_HEADER, createHandler } from '../examples/deadline-propagation.js';
import { type Transport, createInventoryClient } from '../examples/inventory-client.js';

const here = dirname(fileURLToPath(import.meta.url));

function reply(status: number, body: unknown = {}, headers: Record<string, string> = {}) {
  return Promise.resolve({ status, headers, json: () => Promise.resolve(body) });
}

describe('examples/inventory-client.ts', () => {
  it('retries a 503, sends the remaining budget downstream, and falls back once the circuit opens', async () => {
    const clock = new ManualClock(1_000_000);
    const seen: { deadline: string | undefined }[] = [];
    let status = 503;
    const transport: Transport = (_url, { headers }) => {
      seen.push({ deadline: headers[DEADLINE_HEADER] });
      return status === 200 ? reply(200, { available: 7 }) : reply(status);
    };
    const client = createInventoryClient(transport, clock);

    const first = client
      .stock('sku-1', { deadline: new Deadline(clock.now() + 250, clock) })
      .catch((e: unknown) => e);
    await clock.advanceAsync(2_000);
    // Three attempts failed with 503: the retries are spent and the error is not a refusal, so it surfaces.
    expect(await first).toMatchObject({ message: 'inventory answered 503', status: 503 });
    expect(seen).toHaveLength(3);
    expect(seen[0]!.deadline).toBe('250'); // the caller's 250 ms, tighter than the 300 ms timeout

    status = 200;
    await expect(client.stock('sku-1')).resolves.toEqual({ sku: 'sku-1', available: 7, degraded: false });

    const breaker = client.policy.policies.find(
      (p) => p instanceof CircuitBreakerPolicy,
    ) as CircuitBreakerPolicy;
    breaker.isolate();
    await expect(client.stock('sku-1')).resolves.toEqual({ sku: 'sku-1', available: null, degraded: true });
  });
});

describe('examples/deadline-propagation.ts', () => {
  it('gives downstream the smaller budget and refuses spent deadlines', async () => {
    const clock = new ManualClock(0);
    const budgets: number[] = [];
    const handler = createHandler((deadline) => {
      budgets.push(deadline!.remainingMs());
      return Promise.resolve('ok');
    }, clock);
    expect(await handler({ [DEADLINE_HEADER]: '120' })).toEqual({ status: 200, body: 'ok' });
    expect(await handler({})).toEqual({ status: 200, body: 'ok' });
    expect(budgets).toEqual([120, 500]);
    expect(await handler({ [DEADLINE_HEADER]: '0' })).toEqual({
      status: 504,
      body: 'deadline already passed',
    });
  });
});

describe('examples/breaker-restart.ts', () => {
  it('a restarted process keeps the open circuit', async () => {
    const clock = new ManualClock(0);
    const store = new Map<string, string>();
    const before = persistentBreaker(store, 'orders-db', clock);
    const down = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 20; i++) await before.execute(() => Promise.reject(down)).catch(() => undefined);
    expect(before.state).toBe('open');
    const after = persistentBreaker(store, 'orders-db', clock);
    expect(after.state).toBe('open');
    clock.set(5_000);
    expect(after.state).toBe('half-open');
  });
});

describe('examples/chaos-drill.ts', () => {
  it('is off without BALLAST_CHAOS; with it, slowed calls hit the timeout and get the fallback', async () => {
    const clock = new ManualClock(0);
    const charge = () => Promise.resolve('charged');
    const off = createPaymentsCall(charge, { clock, env: {} });
    expect(off.chaos.enabled).toBe(false);
    await expect(off.charge()).resolves.toBe('charged');

    const on = createPaymentsCall(charge, {
      clock,
      env: { BALLAST_CHAOS: 'payments-latency' },
      random: () => 0.1,
    });
    const result = on.charge();
    await clock.advanceAsync(1_000);
    await expect(result).resolves.toBe('queued-for-retry');
  });
});

describe('README', () => {
  it('shows every example file verbatim', () => {
    const readme = readFileSync(join(here, '..', 'README.md'), 'utf8');
    const files = [
      'inventory-client.ts',
      'deadline-propagation.ts',
      'breaker-restart.ts',
      'chaos-drill.ts',
      'vegas-limit.ts',
    ];
    expect(readdirSync(join(here, '..', 'examples'))).toEqual(expect.arrayContaining(files));
    for (const file of files) {
      const source = readFileSync(join(here, '..', 'examples', file), 'utf8').trim();
      expect(readme, `README.md must contain examples/${file} verbatim`).toContain(source);
    }
  });
});
