import { InvalidCursorError } from './errors.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import type { AuditEntry, AuditStore, NewAuditEntry, Page, PageRequest } from './repository.js';
import type { SqlContext } from './sql-context.js';
import type { SqlSession } from './sql-driver.js';
import { checkId, num, strOrNull, toAudit } from './sql-rows.js';

/**
 * Appends an audit entry in the caller's transaction (every store that changes something audits it with its change).
 */
export async function appendAuditEntry(s: SqlSession, entry: NewAuditEntry, at: number): Promise<AuditEntry> {
  // The next number of the entry's tenant (or of the system scope): the upsert locks that scope's row, so
  // concurrent appends of one tenant take turns and two never get the same number.
  const counter = await s.all(
    `INSERT INTO audit_sequences (scope, last) VALUES (?, 1)
     ON CONFLICT (scope) DO UPDATE SET last = audit_sequences.last + 1 RETURNING last`,
    [entry.tenantId ?? ''],
  );
  const rows = await s.all(
    `INSERT INTO audit_log (tenant_id, at, actor, action, target_type, target_id, details, tenant_seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [
      entry.tenantId,
      at,
      entry.actor,
      entry.action,
      entry.targetType,
      entry.targetId,
      JSON.stringify(entry.details ?? {}),
      num(counter[0]!.last),
    ],
  );
  return toAudit(rows[0]!);
}

/**
 * The append-only audit log (`audit_log`, numbered per tenant through `audit_sequences`).
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlAuditStore implements AuditStore {
  private readonly ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.ctx = ctx;
  }

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    checkId('action', entry.action);
    checkId('actor', entry.actor);
    return this.ctx.tx((s) => appendAuditEntry(s, entry, this.ctx.now()));
  }

  async listAudit(
    tenantId: string,
    page: PageRequest & { readonly includeSystem?: boolean } = {},
  ): Promise<Page<AuditEntry>> {
    const limit = pageLimit(page.limit);
    const where = [page.includeSystem ? '(tenant_id = ? OR tenant_id IS NULL)' : 'tenant_id = ?'];
    const params: unknown[] = [tenantId];
    // The cursor names the last entry by its scope and per-scope number, never by the global position (which
    // would tell a tenant how many entries all tenants wrote in between).
    let after: [string, number] | undefined;
    if (page.cursor !== undefined) {
      const [scope, n] = decodeCursor(page.cursor, ['s', 'n']) as [string, number];
      if (scope !== tenantId && !(scope === '' && page.includeSystem))
        throw new InvalidCursorError(page.cursor);
      after = [scope, n];
    }
    const rows = await this.ctx.driver.read(async (s) => {
      if (after && after[1] < 0) {
        // An entry written before per-tenant numbers: its global position (those positions are history).
        where.push('seq < ?');
        params.push(-after[1]);
      } else if (after) {
        const [scope, n] = after;
        const found = await s.all(
          scope === ''
            ? 'SELECT seq FROM audit_log WHERE tenant_id IS NULL AND tenant_seq = ?'
            : 'SELECT seq FROM audit_log WHERE tenant_id = ? AND tenant_seq = ?',
          scope === '' ? [n] : [scope, n],
        );
        if (found.length === 0) throw new InvalidCursorError(page.cursor ?? '');
        where.push('seq < ?');
        params.push(num(found[0]!.seq));
      }
      return s.all(`SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`, [
        ...params,
        limit + 1,
      ]);
    });
    const page_ = rows.slice(0, limit);
    const items = page_.map(toAudit);
    const last = page_.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last
          ? encodeCursor([
              strOrNull(last.tenant_id) ?? '',
              last.tenant_seq === null || last.tenant_seq === undefined
                ? -num(last.seq)
                : num(last.tenant_seq),
            ])
          : null,
    };
  }
}
