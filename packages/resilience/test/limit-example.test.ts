import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, priorityOf } from '../examples/load-shedding.js';
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
