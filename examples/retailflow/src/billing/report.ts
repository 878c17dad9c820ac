import type { Clock } from '@ballast/core';
import { buildInvoice, type Invoice } from './invoice.js';
import { parsePeriod, periodAt, type BillingPeriod } from './period.js';
import { QUOTA_NAMES, type PlanCatalog, type PlanId, type QuotaName } from './plans.js';
import type { BillingAccount, QuotaEnforcer } from './quota.js';
import type { UsageLedger } from './usage.js';

/** One quota in a usage report. */
export interface QuotaUsage {
  readonly included: number;
  readonly used: number;
  readonly remaining: number;
  /** `used` extrapolated linearly to the period's end (equal to `used` for a period that has ended). */
  readonly projected: number;
  readonly overage: 'block' | 'bill';
}

/** What `GET /api/v1/usage` answers: a tenant's quotas and usage in one period. */
export interface UsageReport {
  readonly tenantId: string;
  readonly plan: PlanId;
  readonly period: {
    readonly id: string;
    readonly timeZone: string;
    readonly start: string;
    readonly end: string;
  };
  readonly quotas: Readonly<Record<QuotaName, QuotaUsage>>;
}

/**
 * Builds usage reports: orders from the meter (the usage events billed), API calls from the quota counters.
 *
 * @example
 * ```ts
 * const report = await new UsageReporter(ledger, quotas, plans, clock).report(account);
 * ```
 */
export class UsageReporter {
  constructor(
    readonly ledger: UsageLedger,
    readonly quotas: QuotaEnforcer,
    readonly plans: PlanCatalog,
    readonly clock: Clock,
  ) {}

  /** The period `id` (`YYYY-MM`, default: the current one) in the account's time zone. */
  period(account: BillingAccount, id?: string): BillingPeriod {
    return id === undefined
      ? periodAt(this.clock.now(), account.timeZone)
      : parsePeriod(id, account.timeZone);
  }

  /** The metered units of each quota in `period`. */
  async usedIn(account: BillingAccount, period: BillingPeriod): Promise<Record<QuotaName, number>> {
    const [orders, apiCalls] = await Promise.all([
      this.ledger.total(account.tenantId, 'order.placed', period),
      this.quotas.used(account, 'apiCalls', period),
    ]);
    return { orders, apiCalls };
  }

  /** The account's invoice for a period (default: the current one, so far), from the metered usage. */
  async invoice(account: BillingAccount, tenantName: string, periodId?: string): Promise<Invoice> {
    const period = this.period(account, periodId);
    return buildInvoice({
      tenantId: account.tenantId,
      tenantName,
      plan: this.plans[account.plan],
      period,
      usage: await this.usedIn(account, period),
    });
  }

  async report(account: BillingAccount, periodId?: string): Promise<UsageReport> {
    const period = this.period(account, periodId);
    const used = await this.usedIn(account, period);
    const now = this.clock.now();
    const elapsed = Math.min(1, Math.max(0, (now - period.start) / (period.end - period.start)));
    const plan = this.plans[account.plan];
    const quotas = Object.fromEntries(
      QUOTA_NAMES.map((name) => {
        const rule = plan.quotas[name];
        const value = used[name];
        const projected = elapsed >= 1 ? value : elapsed <= 0 ? 0 : Math.round(value / elapsed);
        return [
          name,
          {
            included: rule.included,
            used: value,
            remaining: Math.max(0, rule.included - value),
            projected,
            overage: rule.overage.kind,
          },
        ];
      }),
    ) as Record<QuotaName, QuotaUsage>;
    return {
      tenantId: account.tenantId,
      plan: account.plan,
      period: {
        id: period.id,
        timeZone: period.timeZone,
        start: new Date(period.start).toISOString(),
        end: new Date(period.end).toISOString(),
      },
      quotas,
    };
  }
}
