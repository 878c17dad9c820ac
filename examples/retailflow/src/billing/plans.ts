import { invalidOption } from '@ballast/core';
import type { RetailFlowConfig } from '../config.js';

/** The plans a tenant can be billed on. */
export type PlanId = 'free' | 'pro' | 'enterprise';

/** The plan ids, cheapest first. */
export const PLAN_IDS: readonly PlanId[] = ['free', 'pro', 'enterprise'];

/** What a period quota counts: orders placed (confirmed) and authenticated API calls. */
export type QuotaName = 'orders' | 'apiCalls';

/** The quota names, in the order the usage API and invoices list them. */
export const QUOTA_NAMES: readonly QuotaName[] = ['orders', 'apiCalls'];

/**
 * What happens past a quota: `block` refuses the call (429 with the quota and its reset), `bill` admits it and
 * bills every started block of `blockSize` units beyond the quota at `blockPriceCents`.
 */
export type OveragePolicy =
  | { readonly kind: 'block' }
  | { readonly kind: 'bill'; readonly blockSize: number; readonly blockPriceCents: number };

/** One period quota of a plan. */
export interface PlanQuota {
  /** Units included per calendar month (in the tenant's time zone). */
  readonly included: number;
  readonly overage: OveragePolicy;
}

/** A plan as data: what it costs, what it includes, how fast it may be called. */
export interface PlanDefinition {
  readonly id: PlanId;
  /** Display name on invoices. */
  readonly name: string;
  /** Monthly base fee in cents of `currency`. */
  readonly baseFeeCents: number;
  /** ISO 4217 code. */
  readonly currency: string;
  /** The per-tenant rate limit (GCRA, per minute), as the tenant rate limiter applies it. */
  readonly requestsPerMinute: number;
  readonly quotas: Readonly<Record<QuotaName, PlanQuota>>;
}

/**
 * RetailFlow's plan catalog. The free plan stops at its quotas (a hard stop protects a plan that pays nothing);
 * pro and enterprise bill overage per block, so a busy day never turns into refused checkouts for a paying
 * tenant. `requestsPerMinute` of each plan is the default of `FREE_REQUESTS_PER_MINUTE`,
 * `PRO_REQUESTS_PER_MINUTE` and `ENTERPRISE_REQUESTS_PER_MINUTE`; {@link planCatalog} applies the configured values
 * (the rate limiter reads a tenant's plan from its billing account, so an enterprise account gets its own rate).
 *
 * @example
 * ```ts
 * import { PLANS } from './billing/plans.js';
 * PLANS.pro.quotas.orders.included; // 10000 orders a month
 * ```
 */
export const PLANS: Readonly<Record<PlanId, PlanDefinition>> = {
  free: {
    id: 'free',
    name: 'Free',
    baseFeeCents: 0,
    currency: 'USD',
    requestsPerMinute: 120,
    quotas: {
      orders: { included: 100, overage: { kind: 'block' } },
      apiCalls: { included: 10_000, overage: { kind: 'block' } },
    },
  },
  pro: {
    id: 'pro',
    name: 'Pro',
    baseFeeCents: 49_00,
    currency: 'USD',
    requestsPerMinute: 1_200,
    quotas: {
      orders: { included: 10_000, overage: { kind: 'bill', blockSize: 1, blockPriceCents: 5 } },
      apiCalls: { included: 1_000_000, overage: { kind: 'bill', blockSize: 1_000, blockPriceCents: 50 } },
    },
  },
  enterprise: {
    id: 'enterprise',
    name: 'Enterprise',
    baseFeeCents: 1_500_00,
    currency: 'USD',
    requestsPerMinute: 6_000,
    quotas: {
      orders: { included: 500_000, overage: { kind: 'bill', blockSize: 1, blockPriceCents: 2 } },
      apiCalls: { included: 50_000_000, overage: { kind: 'bill', blockSize: 1_000, blockPriceCents: 20 } },
    },
  },
};

/** Plans by id. */
export type PlanCatalog = Readonly<Record<PlanId, PlanDefinition>>;

/**
 * The catalog with the configured per-minute rates (the rate limiter's `planRule` reads the same settings).
 *
 * @example
 * ```ts
 * const plans = planCatalog(loadConfig());
 * ```
 */
export function planCatalog(
  config: Pick<
    RetailFlowConfig,
    'freeRequestsPerMinute' | 'proRequestsPerMinute' | 'enterpriseRequestsPerMinute'
  >,
): PlanCatalog {
  return {
    free: { ...PLANS.free, requestsPerMinute: config.freeRequestsPerMinute },
    pro: { ...PLANS.pro, requestsPerMinute: config.proRequestsPerMinute },
    enterprise: { ...PLANS.enterprise, requestsPerMinute: config.enterpriseRequestsPerMinute },
  };
}

/** Whether `value` names a plan. */
export function isPlanId(value: unknown): value is PlanId {
  return typeof value === 'string' && (PLAN_IDS as readonly string[]).includes(value);
}

/**
 * The overage charge for `used` units of a quota, in cents: 0 under the quota or on a `block` plan, otherwise
 * every started block beyond the quota.
 *
 * @example
 * ```ts
 * overageCents(PLANS.pro.quotas.apiCalls, 1_000_001); // 50: one started block of 1000 calls
 * ```
 */
export function overageCents(quota: PlanQuota, used: number): number {
  if (!Number.isFinite(used) || used < 0) throw invalidOption('used', 'a finite number >= 0', used);
  const over = Math.max(0, used - quota.included);
  if (quota.overage.kind === 'block' || over === 0) return 0;
  return Math.ceil(over / quota.overage.blockSize) * quota.overage.blockPriceCents;
}
