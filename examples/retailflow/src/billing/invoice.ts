import { invalidOption } from '@ballast/core';
import type { BillingPeriod } from './period.js';
import { overageCents, QUOTA_NAMES, type PlanDefinition, type QuotaName } from './plans.js';

/** One line of an invoice. */
export interface InvoiceLine {
  readonly description: string;
  readonly quantity: number;
  /** What one `quantity` is (`month`, `order`, `block of 1,000 calls`). */
  readonly unit: string;
  readonly unitPriceCents: number;
  readonly amountCents: number;
}

/** A tenant's invoice for one period. */
export interface Invoice {
  /** `<tenant>-<YYYY-MM>`: one invoice per tenant and period. */
  readonly number: string;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly plan: PlanDefinition;
  readonly period: BillingPeriod;
  readonly currency: string;
  /** Units used per quota, as metered. */
  readonly usage: Readonly<Record<QuotaName, number>>;
  readonly lines: readonly InvoiceLine[];
  readonly totalCents: number;
}

const UNIT: Readonly<Record<QuotaName, string>> = { orders: 'order', apiCalls: 'API call' };
const LABEL: Readonly<Record<QuotaName, string>> = { orders: 'Orders', apiCalls: 'API calls' };

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * A period's invoice: the plan's base fee, then per quota the overage the plan bills (every started block beyond
 * what the plan includes). A `block` quota never bills: its calls past the quota were refused.
 *
 * @example
 * ```ts
 * const invoice = buildInvoice({ tenantId: 'acme', tenantName: 'Acme', plan: PLANS.pro, period, usage });
 * invoice.totalCents; // 4900 plus overage
 * ```
 */
export function buildInvoice(input: {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly plan: PlanDefinition;
  readonly period: BillingPeriod;
  readonly usage: Readonly<Record<QuotaName, number>>;
}): Invoice {
  const { plan, period, usage } = input;
  const lines: InvoiceLine[] = [
    {
      description: `${plan.name} plan, ${period.id}`,
      quantity: 1,
      unit: 'month',
      unitPriceCents: plan.baseFeeCents,
      amountCents: plan.baseFeeCents,
    },
  ];
  for (const name of QUOTA_NAMES) {
    const used = usage[name];
    if (!Number.isInteger(used) || used < 0) throw invalidOption(`usage.${name}`, 'an integer >= 0', used);
    const quota = plan.quotas[name];
    const amount = overageCents(quota, used);
    if (quota.overage.kind !== 'bill' || amount === 0) continue;
    const blocks = amount / quota.overage.blockPriceCents;
    const size = quota.overage.blockSize;
    lines.push({
      description: `${LABEL[name]} beyond the ${count(quota.included)} included (${count(used)} used)`,
      quantity: blocks,
      unit: size === 1 ? UNIT[name] : `block of ${count(size)} ${UNIT[name]}s`,
      unitPriceCents: quota.overage.blockPriceCents,
      amountCents: amount,
    });
  }
  return {
    number: `${input.tenantId}-${period.id}`,
    tenantId: input.tenantId,
    tenantName: input.tenantName,
    plan,
    period,
    currency: plan.currency,
    usage,
    lines,
    totalCents: lines.reduce((sum, line) => sum + line.amountCents, 0),
  };
}
