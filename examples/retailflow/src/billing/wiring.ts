import type { Request, RequestHandler, Router } from 'express';
import { Redis } from 'ioredis';
import { reportError, type Clock } from '@ballast/core';
import type { RetailFlowConfig } from '../config.js';
import type { SqlDriver } from '../data/index.js';
import { SqlBillingAccounts } from './accounts.js';
import { planCatalog, type PlanCatalog } from './plans.js';
import { QuotaEnforcer, quotaMiddleware, type BillingAccount } from './quota.js';
import { MemoryQuotaStore, RedisQuotaStore } from './quota-store.js';
import { UsageReporter } from './report.js';
import { usageRoutes } from './routes.js';
import { scheduleUsagePruning, UsageLedger } from './usage.js';
import { contextOf } from '../http/context.js';

/** RetailFlow's billing: plans, quotas, the usage meter and its API. */
export interface Billing {
  readonly plans: PlanCatalog;
  readonly quotas: QuotaEnforcer;
  readonly ledger: UsageLedger;
  readonly accounts: SqlBillingAccounts;
  readonly reporter: UsageReporter;
  /**
   * Reads the tenant's billing account (cached) into the request context, before the rate limit: an enterprise
   * account gets its plan's rate.
   */
  readonly account: RequestHandler;
  /** The quota middleware for the tenant API's per-request chain (after the rate limit). */
  readonly quota: RequestHandler;
  /** `GET /usage`, behind the tenant API's chain. */
  routes(front: readonly RequestHandler[]): Router;
  close(): Promise<void>;
}

/**
 * Builds billing on the store's database and, with `REDIS_URL`, quota counters in Redis shared by every instance
 * (in memory otherwise). Accounts are read through `lookup` (the tenant cache) so the quota check costs no query
 * per request.
 *
 * @example
 * ```ts
 * const billing = await createBilling({ config, clock, driver: repo.driver, namespace: 'retailflow' });
 * ```
 */
export async function createBilling(options: {
  readonly config: RetailFlowConfig;
  readonly clock: Clock;
  readonly driver: SqlDriver;
  /** Prefix of Redis keys. */
  readonly namespace: string;
  /** Finds a tenant's order by idempotency key (replays pass a full orders quota). */
  readonly findOrder?: (tenantId: string, idempotencyKey: string) => Promise<unknown>;
  /** Caches account reads (key, loader). @default no cache */
  readonly lookup?: <T>(key: string, load: () => Promise<T>) => Promise<T>;
}): Promise<Billing> {
  const { config, clock } = options;
  let redis: Redis | undefined;
  if (config.redisUrl !== undefined && config.quotas) {
    redis = new Redis(config.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    let down = false;
    redis.on('error', (error: unknown) => {
      if (!down) reportError(error, 'retailflow: Redis connection (quotas)');
      down = true;
    });
    redis.on('ready', () => (down = false));
    await redis.connect();
  }
  const plans = planCatalog(config);
  const quotas = new QuotaEnforcer({
    store: redis
      ? new RedisQuotaStore(redis, config.quotaKeyPrefix ?? `${options.namespace}:quota:`)
      : new MemoryQuotaStore(() => clock.now()),
    plans,
    clock,
  });
  const ledger = new UsageLedger(options.driver);
  const accounts = new SqlBillingAccounts(options.driver, () => clock.now());
  const lookup = options.lookup ?? (<T>(_key: string, load: () => Promise<T>) => load());
  const accountOf = (tenant: { id: string; plan: string }): Promise<BillingAccount> =>
    lookup(`billing:${tenant.id}`, () => accounts.get(tenant.id, tenant.plan));
  const reporter = new UsageReporter(ledger, quotas, plans, clock);
  const orderOfKey = async (req: Request, tenantId: string): Promise<{ status?: unknown } | undefined> => {
    const key = req.get('idempotency-key');
    if (!options.findOrder || key === undefined || key.length === 0 || key.length > 255) return undefined;
    return (await options.findOrder(tenantId, key)) as { status?: unknown } | undefined;
  };
  const stopPruning = scheduleUsagePruning(options.driver, clock, config.usageRetentionDays * 86_400_000);
  return {
    plans,
    quotas,
    ledger,
    accounts,
    reporter,
    quota: config.quotas
      ? quotaMiddleware(
          quotas,
          accountOf,
          clock,
          async (req, tenantId) => (await orderOfKey(req, tenantId)) !== undefined,
          async (req, tenantId) => (await orderOfKey(req, tenantId))?.status === 'pending',
        )
      : (_req, _res, next) => next(),
    account: (req, _res, next) => {
      const context = contextOf(req);
      const tenant = context.tenant;
      if (!tenant) {
        next();
        return;
      }
      accountOf(tenant).then(
        (account) => {
          context.billingPlan = account.plan;
          next();
        },
        // Without its account the tenant gets its tenants row's plan: billing must not become an outage.
        (error: unknown) => {
          reportError(error, 'retailflow: reading a billing account');
          next();
        },
      );
    },
    routes: (front) => usageRoutes(reporter, accountOf, front),
    close: async () => {
      stopPruning();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
