/**
 * Redis per-key rate limiting: Ballast's `RedisRateLimitStore` (one EVALSHA of the GCRA script per decision)
 * against rate-limiter-flexible's `RateLimiterRedis` (one EVALSHA of its INCR script), 50 concurrent callers on one
 * ioredis connection to Redis on loopback (REDIS_URL or 127.0.0.1:6379), spread over 1,000 keys. Keys get a unique
 * prefix and expire by themselves.
 */
import { randomUUID } from 'node:crypto';
import { row, serviceUrl, type BenchResult } from '@ballast/testkit';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { measureInRounds } from './limiter-rounds.js';
import { RateLimiter } from '../src/ratelimit/RateLimiter.js';
import { RedisRateLimitStore } from '../src/ratelimit/RedisRateLimitStore.js';

const CALLERS = 50;
const KEYS = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`);

export async function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const client = new Redis(serviceUrl('redis'));
  await client.ping();
  const prefix = `ballast-bench:${randomUUID()}:`;
  const ballast = new RateLimiter({
    rule: { limit: 1_000_000_000, periodMs: 10_000 },
    store: new RedisRateLimitStore({ client, prefix: `${prefix}b:` }),
    storeTimeoutMs: 5_000,
  });
  const flexible = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `${prefix}f`,
    points: 1_000_000_000,
    duration: 10,
  });
  let i = 0;
  let j = 0;
  try {
    const results = await measureInRounds(
      [
        {
          name: 'ratelimit redis: ballast GCRA (50 concurrent)',
          batch: CALLERS,
          fn: () => Promise.all(Array.from({ length: CALLERS }, () => ballast.consume(KEYS[i++ % 1000]!))),
        },
        {
          name: 'ratelimit redis: rate-limiter-flexible (50 concurrent)',
          batch: CALLERS,
          fn: () => Promise.all(Array.from({ length: CALLERS }, () => flexible.consume(KEYS[j++ % 1000]!))),
        },
      ],
      4,
      250,
    );
    const ratio =
      row(results, 'ratelimit redis: ballast GCRA (50 concurrent)').opsPerSec /
      row(results, 'ratelimit redis: rate-limiter-flexible (50 concurrent)').opsPerSec;
    return { results, ratios: { limiter_redis_vs_rlflexible: ratio } };
  } finally {
    await client.quit();
  }
}
