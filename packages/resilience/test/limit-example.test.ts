import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, priorityOf } from '../examples/load-shedding.js';
import { checkoutIngress } from '../examples/critical-first.js';
import { reportDatabaseLimiter } from '../examples/vegas-limit.js';
import { rng } from './limit-rng.js';
import { AimdLimit, ConcurrencyLimiter } from '@ballast/resilience';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('examples/load-shedding.ts', () => {
  it.each([
    ['/healthz', 'critical'],
    ['/reports/daily', 'sheddable'],
    ['/orders/1', 'default'],
  ])('%s is %s', (path, priority) => {
    expect(priorityOf(path)).toBe(priority);
  });

  it('serves requests under the limiter', async () => {
    const limiter = new ConcurrencyLimiter({
      clock: new ManualClock(0),
      algorithm: new AimdLimit({ initialLimit: 4 }),
    });
    const app = createApp(limiter);
    const url = await new Promise<string>((resolve) => {
      server = app.listen(0, '127.0.0.1', () =>
        resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`),
      );
    });
    const res = await fetch(`${url}/orders/7`);
    expect(await res.json()).toEqual({ id: '7' });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('builds its default Gradient2 limiter', () => {
    expect(typeof createApp()).toBe('function');
  });
});

describe('examples/critical-first.ts', () => {
  it('sheds reads while checkouts queue and the loop is busy, and checkouts once the bulkhead is full', async () => {
    const clock = new ManualClock(0);
    const loop = { underPressure: true };
    const { inventory, ingress } = checkoutIngress({ clock, loop });
    const release: (() => void)[] = [];
    const checkout = () =>
      ingress.execute(() => inventory.execute(() => new Promise<void>((r) => release.push(r))), 'critical');
    const running = Array.from({ length: 13 }, checkout); // 12 run, one queues
    await clock.advanceAsync(0);
    expect(inventory.queued).toBe(1);
    await expect(ingress.execute(() => 'read', 'sheddable')).rejects.toMatchObject({ detail: 'pressure' });
    loop.underPressure = false; // checkouts wait on the database, not on the CPU: reads cost them nothing
    await expect(ingress.execute(() => 'read', 'sheddable')).resolves.toBe('read');
    const queued = [checkout(), checkout(), checkout()]; // the queue is full now
    await clock.advanceAsync(0);
    await expect(checkout()).rejects.toMatchObject({ detail: 'pressure', priority: 'critical' });
    for (let round = 0; round < 3; round++) {
      for (const r of release.splice(0)) r();
      await clock.advanceAsync(0);
    }
    await Promise.all([...running, ...queued]);
    expect(inventory.inFlight + inventory.queued).toBe(0);
  });
});

describe('examples/vegas-limit.ts', () => {
  // Vegas re-measures the no-load query time every 15 to 30 rounds (a random jitter): for that round the limit drops
  // to about half, so where it settles is read as the median of the last rounds, for seeds whose last round is such
  // a probe (73) and seeds whose last round is not.
  it.each([1, 2, 3, 73])(
    'raises the limit while queries do not queue and settles where a few of them queue (seed %i)',
    async (seed) => {
      const clock = new ManualClock(0);
      const limiter = reportDatabaseLimiter({ clock, random: rng(seed) });
      expect(limiter.limit).toBe(10);
      // A database that serves 30 queries at once in 10 ms; beyond that each query waits its turn. Each round runs a
      // full limit of critical calls (the class that may fill all of it).
      const round = async () => {
        const n = limiter.limit;
        const queries = Array.from({ length: n }, () =>
          limiter.execute(
            () => new Promise<void>((resolve) => clock.setTimeout(resolve, 10 * Math.max(1, n / 30))),
            'critical',
          ),
        );
        clock.advance(10 * Math.max(1, n / 30));
        await Promise.all(queries);
      };
      const limits: number[] = [];
      for (let i = 0; i < 60; i++) {
        await round();
        limits.push(limiter.limit);
      }
      // A few queries queue at the limit: between alpha (3) and beta (6) above the database's 30, give or take a step.
      const last = limits.slice(-11).sort((a, b) => a - b);
      expect(last[5]).toBeGreaterThanOrEqual(32);
      expect(last[5]).toBeLessThanOrEqual(37);
    },
  );
});
