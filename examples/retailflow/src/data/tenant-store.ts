import { invalidOption } from '@ballast/core';
import type { Plan, Tenant, TenantStore } from './repository.js';
import type { SqlContext } from './sql-context.js';
import { checkId, toTenant } from './sql-rows.js';

/**
 * Tenants (`tenants`): lookups by API key hash, listing, upserts.
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlTenantStore implements TenantStore {
  private readonly ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.ctx = ctx;
  }

  async findTenantByApiKeyHash(apiKeyHash: string): Promise<Tenant | undefined> {
    const rows = await this.ctx.driver.read((s) =>
      s.all('SELECT * FROM tenants WHERE api_key_hash = ?', [apiKeyHash]),
    );
    return rows[0] && toTenant(rows[0]);
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const rows = await this.ctx.driver.read((s) => s.all('SELECT * FROM tenants WHERE id = ?', [tenantId]));
    return rows[0] && toTenant(rows[0]);
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.ctx.driver.read((s) => s.all('SELECT * FROM tenants ORDER BY id'));
    return rows.map(toTenant);
  }

  async upsertTenant(tenant: { id: string; name: string; plan: Plan; apiKeyHash: string }): Promise<Tenant> {
    checkId('tenant.id', tenant.id);
    if (tenant.plan !== 'free' && tenant.plan !== 'pro')
      throw invalidOption('tenant.plan', "'free' or 'pro'", tenant.plan);
    checkId('tenant.apiKeyHash', tenant.apiKeyHash);
    const rows = await this.ctx.tx(async (s) => {
      // Instances starting at once upsert the same tenants: without turns, two inserts of a new tenant both pass
      // the `id` conflict check and the second fails on the API key hash's unique index, which the conflict target
      // does not cover. The lock (per tenant, released at commit) makes the second see the first's row.
      if (this.ctx.kind === 'postgres') {
        await s.all('SELECT pg_advisory_xact_lock(hashtext(?))', [`retailflow.tenant:${tenant.id}`]);
      }
      return s.all(
        `INSERT INTO tenants (id, name, plan, api_key_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, plan = excluded.plan, api_key_hash = excluded.api_key_hash
         RETURNING *`,
        [tenant.id, tenant.name, tenant.plan, tenant.apiKeyHash, this.ctx.now()],
      );
    });
    return toTenant(rows[0]!);
  }
}
