import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ManualClock } from '@ballast/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitHeaders } from '../src/ratelimit/rateLimitHeaders.js';
import { RateLimiter } from '../src/ratelimit/RateLimiter.js';
import { rateLimitMiddleware } from '../src/ratelimit/rateLimitMiddleware.js';
import type { RateLimitHeaderStandard } from '../src/ratelimit/rateLimitHeaders.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function listen(app: express.Express): Promise<string> {
  return new Promise((resolve) => {
    server = app.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}`),
    );
  });
}

const plans = {
  free: { limit: 2, periodMs: 60_000 },
  pro: { limit: 5, periodMs: 60_000 },
};

function app(headers?: RateLimitHeaderStandard) {
  const clock = new ManualClock(0);
  const limiter = new RateLimiter({ rule: plans.free, clock });
  const application = express();
  application.use(
    rateLimitMiddleware(limiter, {
      key: (req) => req.get('x-tenant'),
      rule: (req) => (req.get('x-plan') === 'pro' ? plans.pro : plans.free),
      ...(headers ? { headers } : {}),
    }),
  );
  application.get('/', (_req, res) => {
    res.json({ ok: true });
  });
  return { application, clock };
}

describe('rateLimitMiddleware (express 5)', () => {
  it('limits per tenant with per-plan rules and answers 429 with RateLimit-* and Retry-After', async () => {
    const { application, clock } = app();
    const url = await listen(application);
    const get = (tenant: string, plan = 'free') =>
      fetch(url, { headers: { 'x-tenant': tenant, 'x-plan': plan } });

    const ok = await get('acme');
    expect(ok.status).toBe(200);
    expect(Object.fromEntries([...ok.headers].filter(([k]) => k.startsWith('ratelimit')))).toEqual({
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '30',
      'ratelimit-policy': '2;w=60',
    });
    expect((await get('acme')).status).toBe(200);
    const limited = await get('acme');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('ratelimit-reset')).toBe('60');
    expect(await limited.json()).toEqual({
      error: 'rate_limited',
      message: 'Too many requests; retry later.',
      retryAfterSeconds: 30,
    });

    // Another tenant has its own budget; a pro tenant a bigger one.
    expect((await get('globex')).status).toBe(200);
    const pro = await Promise.all(Array.from({ length: 6 }, () => get('initech', 'pro')));
    expect(pro.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 429]);

    // Requests without a tenant key are not limited.
    expect((await fetch(url)).headers.get('ratelimit-limit')).toBeNull();

    clock.advance(30_000);
    expect((await get('acme')).status).toBe(200);
  });

  it('sends the draft-8 structured fields when asked', async () => {
    const { application } = app('draft-8');
    const url = await listen(application);
    await fetch(url, { headers: { 'x-tenant': 'a' } });
    await fetch(url, { headers: { 'x-tenant': 'a' } });
    const limited = await fetch(url, { headers: { 'x-tenant': 'a' } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60');
    expect(limited.headers.get('ratelimit')).toBe('"default";r=0;t=60');
    expect(limited.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('rateLimitHeaders', () => {
  const base = { limit: 100, periodMs: 60_000, remaining: 42.9, resetAfterMs: 1_001, retryAfterMs: 0 };
  it.each([
    [
      'draft-6 allowed',
      { ...base, allowed: true },
      'draft-6',
      {
        'RateLimit-Limit': '100',
        'RateLimit-Remaining': '42',
        'RateLimit-Reset': '2',
        'RateLimit-Policy': '100;w=60',
      },
    ],
    [
      'draft-6 denied',
      { ...base, allowed: false, remaining: 0, retryAfterMs: 10 },
      'draft-6',
      {
        'RateLimit-Limit': '100',
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': '2',
        'RateLimit-Policy': '100;w=60',
        'Retry-After': '1',
      },
    ],
    [
      'draft-8 denied',
      { ...base, allowed: false, remaining: 0, retryAfterMs: 2_500 },
      'draft-8',
      { 'RateLimit-Policy': '"default";q=100;w=60', RateLimit: '"default";r=0;t=2', 'Retry-After': '3' },
    ],
  ] as const)('%s', (_name, decision, standard, expected) => {
    expect(rateLimitHeaders(decision, standard)).toEqual(expected);
  });
});
