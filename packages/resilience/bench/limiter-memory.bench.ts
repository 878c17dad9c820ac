/**
 * In-memory per-key rate limiting: Ballast's GCRA `RateLimiter` over `MemoryRateLimitStore` against
 * rate-limiter-flexible's `RateLimiterMemory`, both deciding requests spread over 1,000 keys, both awaited (each
 * answers a promise). The rule admits every request, so both measure their common path (read, decide, write).
 */
import { row, type BenchResult } from '@ballast/testkit';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { measureInRounds } from './limiter-rounds.js';
import { MemoryRateLimitStore } from '../src/ratelimit/MemoryRateLimitStore.js';
import { RateLimiter } from '../src/ratelimit/RateLimiter.js';

const KEYS = Array.from({ length: 1000 }, (_, i) => `tenant-${i}`);
const BATCH = 1000;

export async function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const ballast = new RateLimiter({
    rule: { limit: 1_000_000_000, periodMs: 1000 },
    store: new MemoryRateLimitStore({ maxKeys: 10_000 }),
  });
  const flexible = new RateLimiterMemory({ points: 1_000_000_000, duration: 1 });
  let i = 0;
  let j = 0;
  const results = await measureInRounds(
    [
      {
        name: 'ratelimit memory: ballast GCRA (1,000 keys)',
        batch: BATCH,
        fn: async () => {
          for (let n = 0; n < BATCH; n++) await ballast.consume(KEYS[i++ % 1000]!);
        },
      },
      {
        name: 'ratelimit memory: rate-limiter-flexible (1,000 keys)',
        batch: BATCH,
        fn: async () => {
          for (let n = 0; n < BATCH; n++) await flexible.consume(KEYS[j++ % 1000]!);
        },
      },
    ],
    4,
    200,
  );
  const ratio =
    row(results, 'ratelimit memory: ballast GCRA (1,000 keys)').opsPerSec /
    row(results, 'ratelimit memory: rate-limiter-flexible (1,000 keys)').opsPerSec;
  return { results, ratios: { limiter_memory_vs_rlflexible: ratio } };
}
