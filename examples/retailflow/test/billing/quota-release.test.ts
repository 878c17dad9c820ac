import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '@ballast/core';
import { periodAt } from '../../src/billing/period.js';
import { PLANS } from '../../src/billing/plans.js';
import { QuotaEnforcer, quotaMiddleware } from '../../src/billing/quota.js';
import { MemoryQuotaStore } from '../../src/billing/quota-store.js';
import type { Tenant } from '../../src/data/index.js';
import { contextOf } from '../../src/http/context.js';

// Found by the proof's monetization section: a checkout that failed with a 5xx after creating its order gave its
// quota unit back, and the replay of its key then completed the order past a full quota (replays pass): a free
// tenant was billed 101 orders of its 100.

const T0 = Date.UTC(2026, 0, 5);
const account = { tenantId: 'globex', plan: 'free' as const, timeZone: 'UTC' };

async function checkout(
  enforcer: QuotaEnforcer,
  clock: ManualClock,
  status: number,
  leftPending: boolean,
  replayed = false,
): Promise<void> {
  const req = Object.assign(new EventEmitter(), {
    method: 'POST',
    route: { path: '/orders' },
    get: (name: string) => (name === 'idempotency-key' ? 'k1' : undefined),
  });
  contextOf(req as never).tenant = { id: 'globex', plan: 'free' } as Tenant;
  const res = Object.assign(new EventEmitter(), {
    statusCode: 0,
    getHeader: (name: string) => (name === 'Idempotent-Replayed' && replayed ? 'true' : undefined),
  });
  const middleware = quotaMiddleware(
    enforcer,
    () => Promise.resolve(account),
    clock,
    () => Promise.resolve(false),
    () => Promise.resolve(leftPending),
  );
  await new Promise<void>((resolve, reject) =>
    middleware(req as never, res as never, (error?: unknown) =>
      error ? reject(error instanceof Error ? error : new Error('next(non-error)')) : resolve(),
    ),
  );
  res.statusCode = status;
  res.emit('finish');
  for (let i = 0; i < 5; i++) await flushMicrotasks();
}

describe('the orders quota unit of a failed checkout', () => {
  const setup = () => {
    const clock = new ManualClock(T0);
    const enforcer = new QuotaEnforcer({
      store: new MemoryQuotaStore(() => clock.now()),
      plans: PLANS,
      clock,
    });
    const used = () => enforcer.used(account, 'orders', periodAt(T0, 'UTC'));
    return { clock, enforcer, used };
  };

  it('is kept when the checkout left its order pending (a replay will complete it)', async () => {
    const { clock, enforcer, used } = setup();
    await checkout(enforcer, clock, 503, true);
    expect(await used()).toBe(1);
  });

  it.each([
    ['a 5xx that left nothing pending (a failed payment)', 503, false, false],
    ['a refusal (4xx)', 409, true, false],
    ['a replay', 503, true, true],
  ])('is given back after %s', async (_name, status, pending, replayed) => {
    const { clock, enforcer, used } = setup();
    await checkout(enforcer, clock, status, pending, replayed);
    expect(await used()).toBe(0);
  });

  it('is kept for a placed order', async () => {
    const { clock, enforcer, used } = setup();
    await checkout(enforcer, clock, 201, false);
    expect(await used()).toBe(1);
  });
});
