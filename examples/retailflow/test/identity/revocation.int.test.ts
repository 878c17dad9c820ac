import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import { InMemoryRevocationList, RedisRevocationList } from '../../src/identity/revocation.js';

const redis = testService('redis');
const prefix = `rf-revoke-${process.pid}-${randomBytes(3).toString('hex')}`;

describe('InMemoryRevocationList', () => {
  it('lists a jti or a family until its time, then forgets it', async () => {
    const clock = new ManualClock(1_000_000);
    const list = new InMemoryRevocationList(clock);
    await list.revoke({ kind: 'jti', id: 'a', until: 1_060_000 });
    await list.revoke({ kind: 'gid', id: 'g', until: 1_010_000 });
    expect(await list.isRevoked({ jti: 'a' })).toBe(true);
    expect(await list.isRevoked({ jti: 'b', gid: 'g' })).toBe(true);
    expect(await list.isRevoked({ jti: 'b' })).toBe(false);
    clock.advance(10_000);
    expect(await list.isRevoked({ gid: 'g' })).toBe(false);
    await list.revoke({ kind: 'jti', id: 'c', until: 2_000_000 });
    expect(list.size).toBe(2);
    await expect(list.revoke({ kind: 'jti', id: 'x y', until: 1 })).rejects.toThrow(/Expected `id` to be/);
  });
});

describe.skipIf(redis.skip)('RedisRevocationList', () => {
  const a = new Redis(redis.url ?? '', { lazyConnect: true });
  const b = new Redis(redis.url ?? '', { lazyConnect: true });
  afterAll(async () => {
    const keys = await a.keys(`${prefix}:*`);
    if (keys.length > 0) await a.del(...keys);
    a.disconnect();
    b.disconnect();
  });

  it('shares a revocation between instances, with a TTL to the token expiry', async () => {
    const clock = new ManualClock(Date.now());
    const writer = new RedisRevocationList(a, prefix, clock);
    const reader = new RedisRevocationList(b, prefix, clock);
    expect(await reader.isRevoked({ jti: 'j1' })).toBe(false);
    await writer.revoke({ kind: 'jti', id: 'j1', until: clock.now() + 300_000 });
    await writer.revoke({ kind: 'gid', id: 'g1', until: clock.now() + 300_000 });
    await writer.revoke({ kind: 'jti', id: 'old', until: clock.now() - 1 });
    expect(await reader.isRevoked({ jti: 'j1' })).toBe(true);
    expect(await reader.isRevoked({ jti: 'other', gid: 'g1' })).toBe(true);
    expect(await reader.isRevoked({ jti: 'old' })).toBe(false);
    const ttl = await a.pttl(`${prefix}:revoked:jti:j1`);
    expect(ttl).toBeGreaterThan(290_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
  });
});
