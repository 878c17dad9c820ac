import type { SqlDriver } from '../data/index.js';
import { checkTimeZone } from './period.js';
import { isPlanId, type PlanId } from './plans.js';
import type { BillingAccount } from './quota.js';

/**
 * Billing accounts: a tenant's billing plan and time zone. A tenant without a row is billed on the plan its
 * tenants row names, in UTC (so every tenant has an account from its first request).
 *
 * @example
 * ```ts
 * const accounts = new SqlBillingAccounts(repo.driver, () => Date.now());
 * await accounts.set({ tenantId: 't1', plan: 'enterprise', timeZone: 'Europe/Paris' });
 * ```
 */
export class SqlBillingAccounts {
  readonly #driver: SqlDriver;
  readonly #now: () => number;

  constructor(driver: SqlDriver, now: () => number) {
    this.#driver = driver;
    this.#now = now;
  }

  /** The account of a tenant, with `fallbackPlan` (the tenant's plan) when it has none. */
  async get(tenantId: string, fallbackPlan: string): Promise<BillingAccount> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT plan, time_zone FROM billing_accounts WHERE tenant_id = ?', [tenantId]),
    );
    const row = rows[0];
    if (row && isPlanId(row.plan)) return { tenantId, plan: row.plan, timeZone: String(row.time_zone) };
    return { tenantId, plan: isPlanId(fallbackPlan) ? fallbackPlan : 'free', timeZone: 'UTC' };
  }

  /** Sets a tenant's plan and time zone (validated). */
  async set(account: { tenantId: string; plan: PlanId; timeZone: string }): Promise<void> {
    checkTimeZone(account.timeZone);
    await this.#driver.transaction((s) =>
      s.run(
        `INSERT INTO billing_accounts (tenant_id, plan, time_zone, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan, time_zone = excluded.time_zone,
           updated_at = excluded.updated_at`,
        [account.tenantId, account.plan, account.timeZone, this.#now()],
      ),
    );
  }
}
