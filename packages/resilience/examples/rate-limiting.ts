import type { Clock } from '@ballast/core';
import {
  MemoryRateLimitStore,
  RateLimiter,
  rateLimitMiddleware,
  RedisRateLimitStore,
  type RateLimitRule,
} from '@ballast/resilience';
import type { Request } from 'express';
import type { Redis } from 'ioredis';

/** Per-plan limits: the same object per plan on every request, so its GCRA constants are computed once. */
export const plans = {
  free: { limit: 60, periodMs: 60_000 },
  pro: { limit: 600, periodMs: 60_000, burst: 100 },
} satisfies Record<string, RateLimitRule>;

export function createTenantLimiter(redis?: Redis, clock?: Clock): RateLimiter {
  const limiter = new RateLimiter({
    name: 'tenant-api',
    rule: plans.free,
    // Shared across every instance of the service when Redis is given; per process otherwise.
    store: redis
      ? new RedisRateLimitStore({ client: redis, prefix: 'retail:rl:' })
      : new MemoryRateLimitStore({ maxKeys: 50_000 }),
    onStoreError: 'open', // a Redis outage must not take the API down with it
    ...(clock ? { clock } : {}),
  });
  limiter.onEvent((e) => {
    if (e.type === 'store-error') console.warn(`rate limiting degraded (fail open): ${String(e.error)}`);
  });
  return limiter;
}

export function tenantRateLimit(limiter: RateLimiter) {
  return rateLimitMiddleware<Request>(limiter, {
    key: (req) => req.get('x-tenant-id'),
    rule: (req) => (req.get('x-plan') === 'pro' ? plans.pro : plans.free),
  });
}
