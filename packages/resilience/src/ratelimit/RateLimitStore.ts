import type { GcraParams, RateLimitDecision } from './RateLimitRule.js';

/**
 * Where a {@link RateLimiter} keeps per-key state. A store runs the whole GCRA decision (read, decide, write)
 * atomically for one key; it may answer synchronously (memory) or with a promise (Redis).
 *
 * @example
 * ```ts
 * import { MemoryRateLimitStore, RateLimiter } from '@ballast/resilience';
 * const limiter = new RateLimiter({ store: new MemoryRateLimitStore({ maxKeys: 50_000 }), rule });
 * ```
 */
export interface RateLimitStore {
  /**
   * Decides one request of `cost` for `key` under `params` at time `now` (epoch ms from the limiter's clock; a
   * store may use its own time source instead, as {@link RedisRateLimitStore} does by default).
   */
  consume(
    key: string,
    params: GcraParams,
    cost: number,
    now: number,
  ): RateLimitDecision | Promise<RateLimitDecision>;
}
