import type { Redis } from 'ioredis';

/** What {@link QuotaStore.consume} answers. */
export interface QuotaConsumption {
  /** Whether the units were counted (false: they would have passed `limit`, and nothing was counted). */
  readonly admitted: boolean;
  /** The counter after the call (before it, when refused). */
  readonly used: number;
}

/**
 * Period counters shared by every instance. `consume` is one atomic check-and-increment: either the units fit
 * under `limit` and are counted, or nothing changes. That is what bounds the overshoot: a counter never passes its
 * limit, however many instances and requests race.
 */
export interface QuotaStore {
  /**
   * Adds `amount` to `key` unless that would pass `limit` (`Infinity`: no cap). The key expires `ttlMs` after
   * the call, on the store's own clock (relative, so instances and the store need not agree on the time).
   */
  consume(key: string, amount: number, limit: number, ttlMs: number): Promise<QuotaConsumption>;
  /** Gives back `amount` units consumed earlier (never below 0). */
  release(key: string, amount: number): Promise<void>;
  /** The counter's value (0 when absent). */
  read(key: string): Promise<number>;
}

/**
 * In-process {@link QuotaStore} for embedded mode and tests (one instance: JavaScript runs each call to the end,
 * so check-and-increment is atomic). Expired keys are dropped when touched.
 *
 * @example
 * ```ts
 * const store = new MemoryQuotaStore(() => clock.now());
 * await store.consume('t1:orders:2026-12', 1, 100, 40 * 86_400_000);
 * ```
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly #counters = new Map<string, { value: number; expireAt: number }>();
  readonly #now: () => number;

  /** @param now - the clock the expiry is read on. @default Date.now */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #get(key: string): { value: number; expireAt: number } | undefined {
    const entry = this.#counters.get(key);
    if (entry && entry.expireAt <= this.#now()) {
      this.#counters.delete(key);
      return undefined;
    }
    return entry;
  }

  consume(key: string, amount: number, limit: number, ttlMs: number): Promise<QuotaConsumption> {
    const entry = this.#get(key);
    const used = entry?.value ?? 0;
    if (used + amount > limit) return Promise.resolve({ admitted: false, used });
    this.#counters.set(key, { value: used + amount, expireAt: this.#now() + ttlMs });
    return Promise.resolve({ admitted: true, used: used + amount });
  }

  release(key: string, amount: number): Promise<void> {
    const entry = this.#get(key);
    if (entry) entry.value = Math.max(0, entry.value - amount);
    return Promise.resolve();
  }

  read(key: string): Promise<number> {
    return Promise.resolve(this.#get(key)?.value ?? 0);
  }
}

// KEYS[1] counter; ARGV amount, limit (-1: none), time to live (ms). Redis runs a script to the end before
// any other command, so the check and the increment cannot interleave with another instance's.
const CONSUME = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if limit >= 0 and used + amount > limit then return {0, used} end
used = redis.call('INCRBY', KEYS[1], amount)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, used}`;

const RELEASE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used <= 0 then return 0 end
local left = math.max(0, used - tonumber(ARGV[1]))
redis.call('SET', KEYS[1], left, 'KEEPTTL')
return left`;

/**
 * {@link QuotaStore} in Redis: one Lua script per consumption (check and `INCRBY` together), so instances sharing
 * the Redis never count past a limit. Keys are `prefix` + the caller's key.
 *
 * @example
 * ```ts
 * const store = new RedisQuotaStore(new Redis(url), 'retailflow:quota:');
 * ```
 */
export class RedisQuotaStore implements QuotaStore {
  readonly #client: Redis;
  readonly #prefix: string;

  /** @param prefix - prepended to every key. @default 'quota:' */
  constructor(client: Redis, prefix = 'quota:') {
    this.#client = client;
    this.#prefix = prefix;
  }

  async consume(key: string, amount: number, limit: number, ttlMs: number): Promise<QuotaConsumption> {
    const reply = (await this.#client.eval(
      CONSUME,
      1,
      this.#prefix + key,
      amount,
      Number.isFinite(limit) ? limit : -1,
      Math.max(1, Math.ceil(ttlMs)),
    )) as [number, number];
    return { admitted: reply[0] === 1, used: Number(reply[1]) };
  }

  async release(key: string, amount: number): Promise<void> {
    await this.#client.eval(RELEASE, 1, this.#prefix + key, amount);
  }

  async read(key: string): Promise<number> {
    return Number((await this.#client.get(this.#prefix + key)) ?? 0);
  }
}
