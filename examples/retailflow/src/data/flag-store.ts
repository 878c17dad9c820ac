import { appendAuditEntry } from './audit-store.js';
import type { FlagOverride, FlagStore } from './repository.js';
import type { SqlContext } from './sql-context.js';
import { checkId, num } from './sql-rows.js';

const GLOBAL_SCOPE = '*';

/**
 * Feature-flag overrides (`flag_overrides`), per tenant or global, audited.
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlFlagStore implements FlagStore {
  private readonly ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.ctx = ctx;
  }

  setFlagOverride(input: {
    tenantId: string | null;
    flag: string;
    enabled: boolean | null;
    actor: string;
  }): Promise<void> {
    checkId('flag', input.flag);
    const scope = input.tenantId ?? GLOBAL_SCOPE;
    return this.ctx.tx(async (s) => {
      const at = this.ctx.now();
      if (input.enabled === null) {
        await s.run('DELETE FROM flag_overrides WHERE scope = ? AND flag = ?', [scope, input.flag]);
      } else {
        await s.run(
          `INSERT INTO flag_overrides (scope, flag, enabled, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (scope, flag) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
          [scope, input.flag, input.enabled ? 1 : 0, at],
        );
      }
      await appendAuditEntry(
        s,
        {
          tenantId: input.tenantId,
          actor: input.actor,
          action: 'flag.override',
          targetType: 'flag',
          targetId: input.flag,
          details: { enabled: input.enabled },
        },
        at,
      );
    });
  }

  async listFlagOverrides(tenantId: string): Promise<FlagOverride[]> {
    const rows = await this.ctx.driver.read((s) =>
      s.all(
        'SELECT * FROM flag_overrides WHERE scope IN (?, ?) ORDER BY flag, CASE WHEN scope = ? THEN 1 ELSE 0 END',
        [tenantId, GLOBAL_SCOPE, GLOBAL_SCOPE],
      ),
    );
    return rows.map((r) => ({
      tenantId: r.scope === GLOBAL_SCOPE ? null : String(r.scope),
      flag: String(r.flag),
      enabled: num(r.enabled) === 1,
      updatedAt: num(r.updated_at),
    }));
  }
}
