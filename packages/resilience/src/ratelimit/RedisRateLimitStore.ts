import { createHash } from 'node:crypto';
import { checkOneOf, invalidOption } from '@ballast/core';
import type { Cluster, Redis } from 'ioredis';
import type { GcraParams, RateLimitDecision } from './RateLimitRule.js';
import type { RateLimitStore } from './RateLimitStore.js';

/**
 * The whole decision in one atomic script (one round trip): read the key's theoretical arrival time, apply GCRA
 * (see `gcra.ts`, which this mirrors line for line), write it back with a TTL equal to the time until the key is
 * idle again. Times are milliseconds; the stored arrival time keeps full double precision (`%.17g`), and the reply
 * carries durations as whole microseconds, rounded up, because Redis truncates Lua numbers to integers in replies.
 * ARGV: now ('' = use the server's TIME), emission interval, tolerance, cost.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end
local T = tonumber(ARGV[2])
local tau = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local eps = 1e-6
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local nxt = tat + cost * T
local ahead = nxt - now
if ahead <= tau + eps then
  if ahead > 0 then
    redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', math.ceil(ahead))
  end
  return {1, math.floor((tau - ahead) / T + eps), math.ceil(ahead * 1000), 0}
end
local remaining = math.floor((tau - (tat - now)) / T + eps)
if remaining < 0 then remaining = 0 end
return {0, remaining, math.ceil((tat - now) * 1000), math.ceil((ahead - tau) * 1000)}
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** Options for {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** An ioredis client (or cluster). Give it `enableOfflineQueue: false` so a down Redis fails fast. */
  readonly client: Redis | Cluster;
  /** Prefix for every key, so limiters sharing a Redis do not collide. @default 'ballast:rl:' */
  readonly prefix?: string;
  /**
   * Whose clock the decision uses. `'redis'` (the default): the server's `TIME`, read inside the script, so every
   * application server sharing a key agrees on "now" even when their clocks drift apart. `'client'`: the limiter's
   * injected clock, passed to the script (deterministic tests with a manual clock; servers must keep clocks in sync).
   * @default 'redis'
   */
  readonly time?: 'redis' | 'client';
}

/**
 * {@link RateLimitStore} in Redis: one `EVALSHA` per decision (falling back to `EVAL` when the server answers
 * `NOSCRIPT`, e.g. after a restart or `SCRIPT FLUSH`), one key per limited key holding its GCRA arrival time with a
 * TTL, so idle keys expire by themselves. Several application servers pointing at the same Redis share one budget.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RateLimiter, RedisRateLimitStore } from '@ballast/resilience';
 * const client = new Redis(process.env.REDIS_URL!, { enableOfflineQueue: false });
 * const limiter = new RateLimiter({ store: new RedisRateLimitStore({ client }), rule: { limit: 100, periodMs: 60_000 } });
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #clientTime: boolean;

  constructor(options: RedisRateLimitStoreOptions) {
    const client = options?.client;
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') {
      throw invalidOption('client', 'an ioredis client', client);
    }
    this.#client = client;
    this.#prefix = options.prefix ?? 'ballast:rl:';
    if (typeof this.#prefix !== 'string') throw invalidOption('prefix', 'a string', options.prefix);
    this.#clientTime = checkOneOf('time', options.time, ['redis', 'client'] as const, 'redis') === 'client';
  }

  /** The SHA1 of the Lua script (what `EVALSHA` sends). */
  static readonly scriptSha: string = SHA;

  consume(key: string, params: GcraParams, cost: number, now: number): Promise<RateLimitDecision> {
    const redisKey = this.#prefix + key;
    const nowArg = this.#clientTime ? String(now) : '';
    const client = this.#client;
    const parse = (reply: unknown): RateLimitDecision => {
      const [allowed, remaining, resetAfterUs, retryAfterUs] = reply as [number, number, number, number];
      return {
        allowed: allowed === 1,
        remaining,
        resetAfterMs: resetAfterUs / 1000,
        retryAfterMs: retryAfterUs / 1000,
        limit: params.limit,
        periodMs: params.periodMs,
      };
    };
    return client
      .evalsha(SHA, 1, redisKey, nowArg, params.emissionMs, params.toleranceMs, cost)
      .then(parse, (error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client
          .eval(SCRIPT, 1, redisKey, nowArg, params.emissionMs, params.toleranceMs, cost)
          .then(parse);
      });
  }
}
