import { checkOneOf, systemClock, type Clock } from '@ballast/core';
import type { Cluster, Redis } from 'ioredis';
import type { Lease, LeaseStore } from './Lease.js';
import { checkLeaseArgs } from './checks.js';

// KEYS[1] holder hash {owner, token, exp}, KEYS[2] fencing counter (never expires).
// ARGV: now ('' = server TIME), owner, ttl. Reply: {token, exp} or false.
const NOW = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

const ACQUIRE = `${NOW}
local owner = redis.call('HGET', KEYS[1], 'owner')
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
local ttl = tonumber(ARGV[3])
local token
if owner and exp > now then
  if owner ~= ARGV[2] then return false end
  token = tonumber(redis.call('HGET', KEYS[1], 'token'))
else
  token = redis.call('INCR', KEYS[2])
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'token', token, 'exp', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
return {token, now + ttl}
`;

const RENEW = `${NOW}
local owner = redis.call('HGET', KEYS[1], 'owner')
local token = redis.call('HGET', KEYS[1], 'token')
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if owner ~= ARGV[2] or token ~= ARGV[4] or exp <= now then return false end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'exp', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
return {tonumber(token), now + ttl}
`;

const RELEASE = `${NOW}
local owner = redis.call('HGET', KEYS[1], 'owner')
local token = redis.call('HGET', KEYS[1], 'token')
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if owner ~= ARGV[2] or token ~= ARGV[4] then return 0 end
redis.call('DEL', KEYS[1])
if exp > now then return 1 end
return 0
`;

const CURRENT = `${NOW}
local owner = redis.call('HGET', KEYS[1], 'owner')
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp') or '0')
if not owner or exp <= now then return false end
return {owner, tonumber(redis.call('HGET', KEYS[1], 'token')), exp}
`;

/** Options for {@link RedisLeaseStore}. */
export interface RedisLeaseStoreOptions {
  /**
   * An ioredis client (or cluster); the store only sends `EVAL`. Give it `enableOfflineQueue: false` so a down Redis
   * fails fast instead of queueing lock calls past their lease.
   */
  readonly client: Redis | Cluster;
  /** Prefix for every key. @default 'ballast:lock:' */
  readonly prefix?: string;
  /**
   * Whose clock leases expire on: `'redis'` (the server's `TIME`, so holders on different machines agree) or
   * `'client'` (the injected clock, for deterministic tests).
   * @default 'redis'
   */
  readonly time?: 'redis' | 'client';
  /** Used when `time` is `'client'`. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Leases in Redis, one atomic Lua script per operation. The fencing counter is a separate key without a TTL, so
 * tokens keep growing across releases and expiries. They are only as durable as Redis itself: a Redis that loses
 * its data (no persistence, failover to a replica that missed the last `INCR`) can hand out a token again. Where a
 * lease must survive a database failover, use {@link PostgresLeaseStore} on the same database as the data.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { LeaseLock, RedisLeaseStore } from '@ballast/resilience';
 * const store = new RedisLeaseStore({ client: new Redis({ enableOfflineQueue: false }) });
 * const lock = new LeaseLock({ store, key: 'outbox-relay', leaseMs: 10_000 });
 * const lease = await lock.acquire();
 * if (lease) await writeWith(lease.token);
 * ```
 */
export class RedisLeaseStore implements LeaseStore {
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #time: 'redis' | 'client';
  readonly #clock: Clock;

  constructor(options: RedisLeaseStoreOptions) {
    if (typeof options?.client?.eval !== 'function') {
      throw new TypeError(`Expected \`client\` to be an ioredis client, got ${typeof options?.client}`);
    }
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'ballast:lock:';
    this.#time = checkOneOf('time', options.time, ['redis', 'client'] as const, 'redis');
    this.#clock = options.clock ?? systemClock;
  }

  #keys(key: string): [string, string] {
    // One hash tag so both keys land on the same Redis Cluster slot.
    return [`${this.#prefix}{${key}}:holder`, `${this.#prefix}{${key}}:fence`];
  }

  #now(): string {
    return this.#time === 'client' ? String(Math.floor(this.#clock.now())) : '';
  }

  async tryAcquire(key: string, owner: string, ttlMs: number): Promise<Lease | undefined> {
    checkLeaseArgs(key, owner, ttlMs);
    const reply = (await this.#client.eval(ACQUIRE, 2, ...this.#keys(key), this.#now(), owner, ttlMs)) as
      [number, number] | null;
    return reply ? { key, owner, token: Number(reply[0]), expiresAt: Number(reply[1]) } : undefined;
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    checkLeaseArgs(lease?.key, lease?.owner, ttlMs);
    const reply = (await this.#client.eval(
      RENEW,
      2,
      ...this.#keys(lease.key),
      this.#now(),
      lease.owner,
      ttlMs,
      String(lease.token),
    )) as [number, number] | null;
    return reply ? { ...lease, expiresAt: Number(reply[1]) } : undefined;
  }

  async release(lease: Lease): Promise<boolean> {
    const reply = await this.#client.eval(
      RELEASE,
      2,
      ...this.#keys(lease.key),
      this.#now(),
      lease.owner,
      '0',
      String(lease.token),
    );
    return Number(reply) === 1;
  }

  async current(key: string): Promise<Lease | undefined> {
    const reply = (await this.#client.eval(CURRENT, 2, ...this.#keys(key), this.#now())) as
      [string, number, string] | null;
    return reply
      ? { key, owner: String(reply[0]), token: Number(reply[1]), expiresAt: Number(reply[2]) }
      : undefined;
  }
}
