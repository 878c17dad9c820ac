import { createHash } from 'node:crypto';
import { checkNumber, checkOneOf, invalidOption } from '@ballast/core';
import type { GcraParams, RateLimitDecision } from './RateLimitRule.js';
import type { RateLimitStore } from './RateLimitStore.js';

/**
 * GCRA for one or more keys in one atomic script (see `gcra.ts`, which this mirrors line for line). For each key
 * `KEYS[i]` it reads the theoretical arrival time, decides, and writes it back with a TTL equal to the time until the
 * key is idle again. ARGV holds four values per key: now ('' = the server's TIME, read once per call), emission
 * interval, tolerance, cost (milliseconds). The stored arrival time keeps full double precision (`%.17g`); the reply
 * is four integers per key (allowed, remaining, resetAfter, retryAfter), durations in whole microseconds rounded up,
 * because Redis truncates Lua numbers to integers in replies.
 */
const SCRIPT = `
local eps = 1e-6
local server_now
local out = {}
for i = 1, #KEYS do
  local a = (i - 1) * 4
  local now = tonumber(ARGV[a + 1])
  if not now then
    if not server_now then
      local t = redis.call('TIME')
      server_now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    end
    now = server_now
  end
  local T = tonumber(ARGV[a + 2])
  local tau = tonumber(ARGV[a + 3])
  local cost = tonumber(ARGV[a + 4])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if not tat or tat < now then tat = now end
  local nxt = tat + cost * T
  local ahead = nxt - now
  if ahead <= tau + eps then
    if ahead > 0 then
      redis.call('SET', KEYS[i], string.format('%.17g', nxt), 'PX', math.ceil(ahead))
    end
    out[a + 1] = 1
    out[a + 2] = math.floor((tau - ahead) / T + eps)
    out[a + 3] = math.ceil(ahead * 1000)
    out[a + 4] = 0
  else
    local remaining = math.floor((tau - (tat - now)) / T + eps)
    if remaining < 0 then remaining = 0 end
    out[a + 1] = 0
    out[a + 2] = remaining
    out[a + 3] = math.ceil((tat - now) * 1000)
    out[a + 4] = math.ceil((ahead - tau) * 1000)
  end
end
return out
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/**
 * The part of an ioredis client (a `Redis` or a `Cluster`, ioredis 5) the store uses: `EVALSHA`, `EVAL` and whether it
 * is a cluster. Declared here rather than imported from ioredis, so the package's declaration files compile without
 * ioredis installed (it is an optional peer dependency: only applications that use this store install it).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import type { RedisScriptClient } from '@ballast/resilience';
 * const client: RedisScriptClient = new Redis({ enableOfflineQueue: false });
 * ```
 */
export interface RedisScriptClient {
  /** Runs a cached script by its SHA1 (`EVALSHA sha numkeys ...keys ...args`). */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a script from its source (`EVAL script numkeys ...keys ...args`). */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** True for an ioredis `Cluster`, whose keys may live on different nodes. */
  readonly isCluster: boolean;
}

/** Options for {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** An ioredis client (or cluster). Give it `enableOfflineQueue: false` so a down Redis fails fast. */
  readonly client: RedisScriptClient;
  /** Prefix for every key, so limiters sharing a Redis do not collide. @default 'ballast:rl:' */
  readonly prefix?: string;
  /**
   * Whose clock the decision uses. `'redis'` (the default): the server's `TIME`, read inside the script, so every
   * application server sharing a key agrees on "now" even when their clocks drift apart. `'client'`: the limiter's
   * injected clock, passed to the script (deterministic tests with a manual clock; servers must keep clocks in sync).
   * @default 'redis'
   */
  readonly time?: 'redis' | 'client';
  /**
   * Most decisions sent in one script call. Decisions asked for in the same tick of the event loop share one
   * `EVALSHA` (each still decided atomically, in order); 1 sends one call per decision. Always 1 for a Redis
   * Cluster client, whose keys may live on different nodes.
   * @default 64
   */
  readonly maxBatch?: number;
}

interface Pending {
  readonly key: string;
  readonly params: GcraParams;
  readonly resolve: (decision: RateLimitDecision) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * {@link RateLimitStore} in Redis: one atomic Lua script per decision and never more than one round trip, sent with
 * `EVALSHA` (falling back to `EVAL` when the server answers `NOSCRIPT`, e.g. after a restart or `SCRIPT FLUSH`). Each
 * limited key is one Redis key holding its GCRA arrival time with a TTL, so idle keys expire by themselves, and every
 * application server pointing at the same Redis shares one budget. Decisions asked for in the same tick travel in one
 * script call (see `maxBatch`), which is what keeps the client's cost per decision low under concurrency.
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
  /** The SHA1 of the Lua script (what `EVALSHA` sends). */
  static readonly scriptSha: string = SHA;

  readonly #client: RedisScriptClient;
  readonly #prefix: string;
  readonly #clientTime: boolean;
  readonly #maxBatch: number;
  #batch: Pending[] = [];
  #args: (string | number)[] = [];

  constructor(options: RedisRateLimitStoreOptions) {
    const client = options?.client;
    if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') {
      throw invalidOption('client', 'an ioredis client', client);
    }
    this.#client = client;
    this.#prefix = options.prefix ?? 'ballast:rl:';
    if (typeof this.#prefix !== 'string') throw invalidOption('prefix', 'a string', options.prefix);
    this.#clientTime = checkOneOf('time', options.time, ['redis', 'client'] as const, 'redis') === 'client';
    const maxBatch = checkNumber('maxBatch', options.maxBatch, 64, { integer: true, min: 1, max: 1000 });
    this.#maxBatch = client.isCluster ? 1 : maxBatch;
  }

  consume(key: string, params: GcraParams, cost: number, now: number): Promise<RateLimitDecision> {
    return new Promise<RateLimitDecision>((resolve, reject) => {
      if (this.#batch.length === 0) queueMicrotask(this.#flush);
      this.#batch.push({ key: this.#prefix + key, params, resolve, reject });
      this.#args.push(this.#clientTime ? now : '', params.emissionMs, params.toleranceMs, cost);
      if (this.#batch.length >= this.#maxBatch) this.#flush();
    });
  }

  readonly #flush = (): void => {
    const batch = this.#batch;
    if (batch.length === 0) return; // already sent because it was full
    const args = this.#args;
    this.#batch = [];
    this.#args = [];
    const keys = batch.map((p) => p.key);
    const client = this.#client;
    client
      .evalsha(SHA, keys.length, ...keys, ...args)
      .catch((error: unknown) => {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return client.eval(SCRIPT, keys.length, ...keys, ...args);
      })
      .then(
        (reply) => {
          const r = reply as number[];
          for (let i = 0; i < batch.length; i++) {
            const { params, resolve } = batch[i]!;
            const a = i * 4;
            resolve({
              allowed: r[a] === 1,
              remaining: r[a + 1]!,
              resetAfterMs: r[a + 2]! / 1000,
              retryAfterMs: r[a + 3]! / 1000,
              limit: params.limit,
              periodMs: params.periodMs,
            });
          }
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      );
  };
}
