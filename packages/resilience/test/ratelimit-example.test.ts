import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ManualClock } from '@ballast/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createTenantLimiter, plans, tenantRateLimit } from '../examples/rate-limiting.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('examples/rate-limiting.ts', () => {
  it('limits tenants by plan in memory', async () => {
    const clock = new ManualClock(0);
    const app = express();
    app.use(tenantRateLimit(createTenantLimiter(undefined, clock)));
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const url = await new Promise<string>((resolve) => {
      server = app.listen(0, '127.0.0.1', () =>
        resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`),
      );
    });
    const statuses: number[] = [];
    for (let i = 0; i <= plans.free.limit; i++) {
      statuses.push((await fetch(url, { headers: { 'x-tenant-id': 'acme' } })).status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(plans.free.limit);
    expect(statuses.at(-1)).toBe(429);
    const pro = await fetch(url, { headers: { 'x-tenant-id': 'acme-pro', 'x-plan': 'pro' } });
    expect(pro.headers.get('ratelimit-limit')).toBe('600');
    expect(pro.headers.get('ratelimit-remaining')).toBe('99');
  });
});
