import { periodAt } from '../billing/period.js';
import { overageCents, type PlanCatalog } from '../billing/plans.js';
import type { BillingAccount, QuotaEnforcer } from '../billing/quota.js';
import type { UsageLedger } from '../billing/usage.js';

/**
 * What a tenant earned over a window `[from, to)`, in its plan's currency units (not cents): the plan's base fee
 * pro rata (the window's share of the current billing month) plus the overage billed for units used inside the
 * window (orders from the usage meter; API calls from the quota counter, less the `callsInWindow` this window
 * saw). A window reaching back before the current month counts its overage from the month's start.
 *
 * @example
 * ```ts
 * const usd = await windowRevenue({ account, plans, ledger, quotas, from, to: Date.now(), callsInWindow: 1200 });
 * ```
 */
export async function windowRevenue(input: {
  readonly account: BillingAccount;
  readonly plans: PlanCatalog;
  readonly ledger: UsageLedger;
  readonly quotas: Pick<QuotaEnforcer, 'used'>;
  readonly from: number;
  readonly to: number;
  readonly callsInWindow: number;
}): Promise<number> {
  // Whole ms: the store keeps BIGINT timestamps, and a clock may have a fraction.
  const from = Math.floor(input.from);
  const to = Math.floor(input.to);
  const { account } = input;
  const plan = input.plans[account.plan];
  const period = periodAt(to, account.timeZone);
  const base = (plan.baseFeeCents * Math.max(0, to - from)) / (period.end - period.start);
  const start = Math.max(from, period.start);
  const [ordersNow, ordersBefore, callsNow] = await Promise.all([
    input.ledger.total(account.tenantId, 'order.placed', { ...period, end: to + 1 }),
    input.ledger.total(account.tenantId, 'order.placed', { ...period, end: start }),
    input.quotas.used(account, 'apiCalls', period),
  ]);
  const callsBefore = Math.max(0, callsNow - input.callsInWindow);
  const overage =
    overageCents(plan.quotas.orders, ordersNow) -
    overageCents(plan.quotas.orders, ordersBefore) +
    overageCents(plan.quotas.apiCalls, callsNow) -
    overageCents(plan.quotas.apiCalls, callsBefore);
  return (base + Math.max(0, overage)) / 100;
}
