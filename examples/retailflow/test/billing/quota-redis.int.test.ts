import { randomBytes } from 'node:crypto';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PLANS } from '../../src/billing/plans.js';
import { QuotaEnforcer } from '../../src/billing/quota.js';
import { RedisQuotaStore } from '../../src/billing/quota-store.js';

const redis = testService('redis');
const prefix = `rfquota_${randomBytes(4).toString('hex')}:`;
const clients: Redis[] = [];

afterAll(async () => {
  const [first] = clients;
  if (first) {
    const keys = await first.keys(`${prefix}*`);
    if (keys.length > 0) await first.del(...keys);
  }
  await Promise.all(clients.map((c) => c.quit()));
});

describe.skipIf(redis.skip)('QuotaEnforcer on Redis, two instances', () => {
  it('never counts past the quota however the instances race (overshoot bound 0)', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const enforcers = [0, 1].map(() => {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      clients.push(client);
      return new QuotaEnforcer({ store: new RedisQuotaStore(client, prefix), plans: PLANS, clock });
    });
    const account = { tenantId: 'race', plan: 'free' as const, timeZone: 'UTC' };
    // 400 concurrent orders against a quota of 100, alternating instances, with releases racing the consumes.
    const decisions = await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        const enforcer = enforcers[i % 2]!;
        const decision = await enforcer.consume(account, 'orders');
        if (decision.admitted && i % 10 === 0) await enforcer.release(account, 'orders', decision.period);
        return { decision, released: decision.admitted && i % 10 === 0 };
      }),
    );
    const period = decisions[0]!.decision.period;
    const counted = await enforcers[0]!.used(account, 'orders', period);
    const kept = decisions.filter((d) => d.decision.admitted && !d.released).length;
    expect(Math.max(...decisions.map((d) => d.decision.used))).toBeLessThanOrEqual(100);
    expect(counted).toBe(kept);
    expect(counted).toBeLessThanOrEqual(100);
    // Every refusal saw the quota full at that instant.
    expect(decisions.filter((d) => !d.decision.admitted).every((d) => d.decision.used === 100)).toBe(true);
  });
});
