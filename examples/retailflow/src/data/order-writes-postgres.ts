import { usageEventId } from '../billing/usage.js';
import {
  IdempotencyKeyTaken,
  itemsInsert,
  orderInsert,
  OrderVersionConflictError,
  reservationsInsert,
  sagaWrite,
  type SqlStatement,
} from './order-streams.js';
import { eventRows, orderUpdate, outboxRows, StockShortError, type OrderWrites } from './order-writes.js';
import type { SqlRow, SqlSession } from './sql-driver.js';

/**
 * The SQLSTATE `retailflow_check` (migration 15) raises when a product's stock cannot cover what an order takes;
 * the message is the product's id.
 */
export const STOCK_SHORT_SQLSTATE = 'RFS01';

/** The unique constraints whose violation is an answer, not a failure. */
const EVENT_VERSION_TAKEN = 'order_events_tenant_id_order_id_version_key';
const IDEMPOTENCY_KEY_TAKEN = 'orders_tenant_id_idempotency_key_key';

/** A row of {@link OrderWrites.also} was there already (the name of the unique constraint it violated). */
export class RowTakenError extends Error {
  readonly constraint: string;
  constructor(constraint: string) {
    super(`a row the write inserts exists (${constraint})`);
    this.name = 'RowTakenError';
    this.constraint = constraint;
  }
}

/** One data-modifying step of the statement: `WITH <name> AS (<sql> RETURNING ...)`. */
interface Step {
  readonly name: string;
  readonly sql: string;
  readonly params: readonly unknown[];
}

/**
 * The statement that writes `w` whole on PostgreSQL: one data-modifying CTE per table, and a final SELECT that
 * counts each step's rows in the order the steps should take their locks (the stream's version, the order's key,
 * the tenant's audit sequence, then the stock rows last, in product-id order) and fails the statement when a
 * product's stock fell short. A statement is atomic on its own: sent outside a transaction it commits whole, or
 * any error (a unique violation, the stock check) leaves nothing of it.
 */
export function oneStatement(w: OrderWrites): { sql: string; params: unknown[] } {
  const steps: Step[] = w.also.map((statement, i) => ({
    name: `also_${i}`,
    sql: `${statement.sql} RETURNING 1`,
    params: statement.params,
  }));
  const o = w.after.order;
  const events = eventRows(w.events);
  steps.push({
    name: 'events',
    sql: `INSERT INTO order_events (event_id, tenant_id, order_id, version, type, data, at, actor)
      VALUES ${events.values} RETURNING 1`,
    params: events.params,
  });
  const step = (name: string, statement: SqlStatement, returning = 'RETURNING 1'): Step => ({
    name,
    sql: `${statement.sql} ${returning}`,
    params: statement.params,
  });
  if (w.created) {
    // No ON CONFLICT: a taken key is a unique violation that undoes the whole statement.
    steps.push(step('order_row', orderInsert(w.after)));
    steps.push(step('items', itemsInsert(o)));
    if (w.after.reserved) steps.push(step('reservations', reservationsInsert(o)));
  } else {
    const update = orderUpdate(w.after);
    steps.push(
      step('order_row', {
        sql: `UPDATE orders SET ${update.set} WHERE tenant_id = ? AND id = ?`,
        params: update.params,
      }),
    );
  }
  if (w.releaseReservations) {
    steps.push(
      step('released', {
        sql: 'DELETE FROM stock_reservations WHERE tenant_id = ? AND order_id = ?',
        params: [w.tenantId, w.orderId],
      }),
    );
  }
  if (w.sagaChanged) steps.push(step('saga', sagaWrite(w.after, o.updatedAt)));
  if (w.outbox.length > 0) {
    const outbox = outboxRows(w);
    steps.push({
      name: 'outbox',
      sql: `INSERT INTO outbox (id, tenant_id, aggregate_type, aggregate_id, type, payload, created_at,
          next_attempt_at) VALUES ${outbox.values} RETURNING 1`,
      params: outbox.params,
    });
  }
  if (w.usage.length > 0) {
    steps.push({
      name: 'usage',
      sql: `INSERT INTO usage_events (id, tenant_id, type, subject, quantity, occurred_at)
        VALUES ${w.usage.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING RETURNING 1`,
      params: w.usage.flatMap((u) => [
        usageEventId(u.type, u.tenantId, u.subject),
        u.tenantId,
        u.type,
        u.subject,
        u.quantity,
        u.occurredAt,
      ]),
    });
  }
  if (w.audit.length > 0) {
    const scopes = new Set(w.audit.map((e) => e.tenantId ?? ''));
    if (scopes.size > 1)
      throw new Error(`oneStatement: audit entries of several scopes (${[...scopes].join(', ')})`);
    const k = w.audit.length;
    // The scope's counter moves by k at once (one statement cannot update a row twice); the entries take the k
    // numbers that end at its new value, in order.
    steps.push({
      name: 'audit_seq',
      sql: `INSERT INTO audit_sequences (scope, last) VALUES (?, ?)
        ON CONFLICT (scope) DO UPDATE SET last = audit_sequences.last + excluded.last RETURNING last`,
      params: [[...scopes][0], k],
    });
    steps.push({
      name: 'audit',
      sql: `INSERT INTO audit_log (tenant_id, at, actor, action, target_type, target_id, details, tenant_seq)
        SELECT ?::text, ?::bigint, a.actor, a.action, a.target_type, a.target_id, a.details, audit_seq.last - ?::bigint + a.n
        FROM audit_seq, unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
          WITH ORDINALITY AS a (actor, action, target_type, target_id, details, n)
        RETURNING 1`,
      params: [
        w.audit[0]!.tenantId,
        w.at,
        k,
        w.audit.map((e) => e.actor),
        w.audit.map((e) => e.action),
        w.audit.map((e) => e.targetType),
        w.audit.map((e) => e.targetId),
        w.audit.map((e) => JSON.stringify(e.details ?? {})),
      ],
    });
  }
  const takes = w.stock.filter((m) => m.delta < 0).map((m) => m.productId);
  if (w.stock.length > 0) {
    const ids = w.stock.map((m) => m.productId);
    // Several rows: lock them in product-id order first (a materialized SELECT ... ORDER BY ... FOR UPDATE, read
    // whole before the UPDATE starts), so two checkouts of the same products never lock them crosswise.
    if (ids.length > 1) {
      steps.push({
        name: 'stock_locks',
        sql: 'SELECT id FROM products WHERE tenant_id = ? AND id = ANY(?::text[]) ORDER BY id FOR UPDATE',
        params: [w.tenantId, ids],
      });
    }
    steps.push({
      name: 'stock',
      sql: `UPDATE products p SET stock = p.stock + v.delta, updated_at = ?
        FROM unnest(?::text[], ?::bigint[]) AS v (id, delta)
        WHERE p.tenant_id = ? AND p.id = v.id AND p.stock + v.delta >= 0${
          ids.length > 1 ? ' AND (SELECT count(*) FROM stock_locks) > 0' : ''
        }
        RETURNING p.id`,
      params: [w.at, ids, w.stock.map((m) => m.delta), w.tenantId],
    });
  }
  const counted = steps.filter((step) => step.name !== 'audit_seq' && step.name !== 'stock_locks');
  const columns = counted
    .filter((step) => step.name !== 'stock')
    .map((step) => `(SELECT count(*) FROM ${step.name}) AS ${step.name}`);
  const params: unknown[] = steps.flatMap((step) => step.params);
  if (w.stock.length > 0) {
    // The product taken short of stock (the first by id), or NULL: retailflow_check raises it.
    columns.push(
      `retailflow_check((SELECT min(t.id) FROM unnest(?::text[]) AS t (id) WHERE t.id NOT IN (SELECT id FROM stock)), '${STOCK_SHORT_SQLSTATE}') AS stock`,
    );
    params.push(takes);
  }
  const ctes = steps.map(
    (step) => `${step.name} AS ${step.name === 'stock_locks' ? 'MATERIALIZED ' : ''}(${step.sql})`,
  );
  return { sql: `WITH ${ctes.join(',\n')}\nSELECT ${columns.join(', ')}`, params };
}

function constraintOf(error: unknown): { code: unknown; constraint: unknown; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  return { code: e.code, constraint: e.constraint, message: typeof e.message === 'string' ? e.message : '' };
}

/**
 * Writes `w` with one statement (one round trip) on PostgreSQL, outside any transaction. Throws the errors
 * `writeOneByOne` throws, for the same reasons: {@link OrderVersionConflictError},
 * {@link IdempotencyKeyTaken}, {@link StockShortError}; and {@link RowTakenError} when a row of `w.also` exists.
 */
export async function writeInOneStatement(s: SqlSession, w: OrderWrites): Promise<SqlRow> {
  const { sql, params } = oneStatement(w);
  try {
    const rows = await s.all(sql, params);
    return rows[0] ?? {};
  } catch (error) {
    const pg = constraintOf(error);
    if (pg?.code === '23505' && pg.constraint === EVENT_VERSION_TAKEN) {
      throw new OrderVersionConflictError(w.tenantId, w.orderId, w.expectedVersion);
    }
    if (pg?.code === '23505' && pg.constraint === IDEMPOTENCY_KEY_TAKEN) throw new IdempotencyKeyTaken();
    if (pg?.code === '23505' && w.also.length > 0 && typeof pg.constraint === 'string') {
      throw new RowTakenError(pg.constraint);
    }
    if (pg?.code === STOCK_SHORT_SQLSTATE) throw new StockShortError(pg.message);
    throw error;
  }
}
