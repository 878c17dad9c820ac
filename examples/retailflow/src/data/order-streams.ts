import { brand, hasBrand } from '@ballast/core';
import { evolve, type OrderEvent, type OrderEventData, type OrderState } from '../orders/events.js';
import type { SqlDialect } from './migrations.js';
import type { Order } from './repository.js';
import type { SqlRow, SqlSession } from './sql-driver.js';

const conflictBrand = Symbol.for('ballast.retailflow.OrderVersionConflictError');

/**
 * An append to an order's stream found that another writer appended first: the stream is no longer at
 * `expectedVersion`. Nothing of the losing append was written (its transaction rolls back); the caller reloads the
 * order and decides again.
 *
 * @example
 * ```ts
 * import { isOrderVersionConflictError } from './data/index.js';
 * try { await appendOrderEvents(session, append); } catch (e) { if (isOrderVersionConflictError(e)) retry(); }
 * ```
 */
export class OrderVersionConflictError extends Error {
  readonly tenantId: string;
  readonly orderId: string;
  readonly expectedVersion: number;
  constructor(tenantId: string, orderId: string, expectedVersion: number) {
    super(
      `order ${tenantId}/${orderId}: expected its stream at version ${expectedVersion}, but another writer appended first`,
    );
    this.name = 'OrderVersionConflictError';
    this.tenantId = tenantId;
    this.orderId = orderId;
    this.expectedVersion = expectedVersion;
    brand(this, conflictBrand);
  }
}

/**
 * True for an {@link OrderVersionConflictError}, from any copy of the module.
 *
 * @example
 * ```ts
 * if (isOrderVersionConflictError(error)) return retry();
 * ```
 */
export function isOrderVersionConflictError(error: unknown): error is OrderVersionConflictError {
  return hasBrand(error, conflictBrand);
}

/** The idempotency key of a new order was taken by a concurrent checkout (the projection's unique index said so). */
export class IdempotencyKeyTaken extends Error {
  constructor() {
    super('idempotency key taken');
  }
}

function toEvent(r: SqlRow): OrderEvent {
  return {
    eventId: String(r.event_id),
    tenantId: String(r.tenant_id),
    orderId: String(r.order_id),
    version: Number(r.version),
    type: String(r.type),
    data: JSON.parse(String(r.data)) as unknown,
    at: Number(r.at),
    actor: String(r.actor),
  } as OrderEvent;
}

/** The order's events in version order. */
export async function loadOrderEvents(
  s: SqlSession,
  tenantId: string,
  orderId: string,
): Promise<OrderEvent[]> {
  const rows = await s.all(
    // Named columns (not `*`): the statement is prepared (see StatementNames).
    'SELECT event_id, tenant_id, order_id, version, type, data, at, actor FROM order_events WHERE tenant_id = ? AND order_id = ? ORDER BY version',
    [tenantId, orderId],
  );
  return rows.map(toEvent);
}

/** Inserts one event at its version; `false` when another writer holds that version of the stream. */
async function insertEvent(s: SqlSession, event: OrderEvent): Promise<boolean> {
  const inserted = await s.all(
    `INSERT INTO order_events (event_id, tenant_id, order_id, version, type, data, at, actor)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, order_id, version) DO NOTHING RETURNING version`,
    [
      event.eventId,
      event.tenantId,
      event.orderId,
      event.version,
      event.type,
      JSON.stringify(event.data),
      event.at,
      event.actor,
    ],
  );
  return inserted.length > 0;
}

/** A statement and its parameters, to run alone or as a step of a larger one. */
export interface SqlStatement {
  readonly sql: string;
  readonly params: unknown[];
}

/** The INSERT of a new order's row (without a conflict clause). */
export function orderInsert(state: OrderState): SqlStatement {
  const o = state.order;
  return {
    sql: `INSERT INTO orders (tenant_id, id, idempotency_key, request_hash, status, total_cents, currency, payment_id,
       payment_failure, status_reason, created_at, updated_at, deleted_at, version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    params: [
      o.tenantId,
      o.id,
      o.idempotencyKey,
      o.requestHash,
      o.status,
      o.totalCents,
      o.currency,
      o.paymentId,
      o.paymentFailure,
      o.statusReason,
      o.createdAt,
      o.updatedAt,
      o.deletedAt,
      state.version,
    ],
  };
}

/** The INSERT of an order's items. */
export function itemsInsert(order: Order): SqlStatement {
  return {
    sql: `INSERT INTO order_items (tenant_id, order_id, line, product_id, name, quantity, unit_price_cents)
     VALUES ${order.items.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    params: order.items.flatMap((item, line) => [
      order.tenantId,
      order.id,
      line,
      item.productId,
      item.name,
      item.quantity,
      item.unitPriceCents,
    ]),
  };
}

/** The INSERT of the reservations of an order's items. */
export function reservationsInsert(order: Order): SqlStatement {
  return {
    sql: `INSERT INTO stock_reservations (tenant_id, order_id, product_id, quantity, reserved_at)
     VALUES ${order.items.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
    params: order.items.flatMap((item) => [
      order.tenantId,
      order.id,
      item.productId,
      item.quantity,
      order.createdAt,
    ]),
  };
}

/** The write of the saga row as `state` has it: an upsert, or a DELETE once the saga completed. */
export function sagaWrite(state: OrderState, at: number): SqlStatement {
  const o = state.order;
  if (state.saga.step === 'completed') {
    return {
      sql: 'DELETE FROM checkout_sagas WHERE tenant_id = ? AND order_id = ?',
      params: [o.tenantId, o.id],
    };
  }
  return {
    sql: `INSERT INTO checkout_sagas (tenant_id, order_id, step, cancel_requested, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (tenant_id, order_id) DO UPDATE
       SET step = excluded.step, cancel_requested = excluded.cancel_requested, updated_at = excluded.updated_at`,
    params: [o.tenantId, o.id, state.saga.step, state.saga.cancelRequested ? 1 : 0, at],
  };
}

/** Inserts a new order's projection rows (order and items); `false` when its idempotency key is taken. */
export async function insertOrderRows(s: SqlSession, state: OrderState): Promise<boolean> {
  const order = orderInsert(state);
  const inserted = await s.all(
    `${order.sql} ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
    order.params,
  );
  if (inserted.length === 0) return false;
  const items = itemsInsert(state.order);
  await s.run(items.sql, items.params);
  return true;
}

/** Inserts the reservations of an order's items. */
export async function insertReservations(s: SqlSession, state: OrderState): Promise<void> {
  const reservations = reservationsInsert(state.order);
  await s.run(reservations.sql, reservations.params);
}

/** Writes the saga row as `state` has it (deletes it once completed). */
export async function writeSaga(s: SqlSession, state: OrderState, at: number): Promise<void> {
  const saga = sagaWrite(state, at);
  await s.run(saga.sql, saga.params);
}

const withStream = (table: string, idColumn: string): string =>
  `EXISTS (SELECT 1 FROM order_events e WHERE e.tenant_id = ${table}.tenant_id AND e.order_id = ${table}.${idColumn})`;

/** The projection rows of the orders that have a stream, one canonical text per row, for comparison. */
async function projectionRows(s: SqlSession): Promise<string[]> {
  const canonical = (table: string, rows: SqlRow[]): string[] =>
    rows.map(
      (r) =>
        `${table} ${JSON.stringify(
          Object.keys(r)
            .sort()
            .map((k) => [k, typeof r[k] === 'bigint' || /^-?\d+$/.test(String(r[k])) ? Number(r[k]) : r[k]]),
        )}`,
    );
  return [
    ...canonical('orders', await s.all(`SELECT * FROM orders WHERE ${withStream('orders', 'id')}`)),
    ...canonical(
      'order_items',
      await s.all(`SELECT * FROM order_items WHERE ${withStream('order_items', 'order_id')}`),
    ),
    ...canonical('stock_reservations', await s.all('SELECT * FROM stock_reservations')),
    ...canonical('checkout_sagas', await s.all('SELECT * FROM checkout_sagas')),
  ].sort();
}

/** How many rows two sorted lists of rows do not share (a multiset symmetric difference). */
function drift(before: readonly string[], after: readonly string[]): number {
  let i = 0;
  let j = 0;
  let differ = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      i++;
      j++;
    } else if (j >= after.length || (i < before.length && before[i]! < after[j]!)) {
      differ++;
      i++;
    } else {
      differ++;
      j++;
    }
  }
  return differ;
}

/**
 * Rebuilds `orders`, `order_items`, `stock_reservations` and `checkout_sagas` from `order_events`, in the caller's
 * transaction (on PostgreSQL, writers of events wait until it commits), and counts the projection rows that
 * differed from what was there (`drift`: 0 when the live projections were right). Rows of orders without a stream
 * (written before migration 10) are left alone.
 */
export async function rebuildProjections(
  s: SqlSession,
  dialect: SqlDialect,
): Promise<{ orders: number; events: number; openSagas: number; reservations: number; drift: number }> {
  if (dialect === 'postgres') await s.exec('LOCK TABLE order_events IN EXCLUSIVE MODE');
  const before = await projectionRows(s);
  await s.run('DELETE FROM checkout_sagas');
  await s.run('DELETE FROM stock_reservations');
  await s.run(`DELETE FROM order_items WHERE ${withStream('order_items', 'order_id')}`);
  await s.run(`DELETE FROM orders WHERE ${withStream('orders', 'id')}`);
  const states = new Map<string, OrderState | undefined>();
  let events = 0;
  let after = 0;
  for (;;) {
    const rows = await s.all('SELECT * FROM order_events WHERE seq > ? ORDER BY seq LIMIT 1000', [after]);
    if (rows.length === 0) break;
    after = Number(rows.at(-1)!.seq);
    for (const event of rows.map(toEvent)) {
      const key = `${event.tenantId}\u0000${event.orderId}`;
      const before = states.get(key);
      if (event.version !== (before?.version ?? 0) + 1) {
        throw new Error(
          `order ${event.tenantId}/${event.orderId}: event version ${event.version} out of order`,
        );
      }
      states.set(key, evolve(before, event));
      events++;
    }
  }
  let openSagas = 0;
  let reservations = 0;
  for (const state of states.values()) {
    if (state === undefined) continue;
    if (!(await insertOrderRows(s, state))) {
      throw new Error(
        `order ${state.order.tenantId}/${state.order.id}: idempotency key taken by another order`,
      );
    }
    if (state.reserved) {
      await insertReservations(s, state);
      reservations += state.order.items.length;
    }
    if (state.saga.step !== 'completed') {
      await writeSaga(s, state, state.order.updatedAt);
      openSagas++;
    }
  }
  return {
    orders: states.size,
    events,
    openSagas,
    reservations,
    drift: drift(before, await projectionRows(s)),
  };
}

/**
 * The events an order written before migration 10 (a row, no stream) stands for: `order.created`, then what its
 * status says happened. They are written as its stream (not published: consumers saw these changes when they
 * happened), its projection rows get their version, reservations and saga, and the order is a stream from then on.
 */
function legacyEvents(order: Order): OrderEventData[] {
  const events: OrderEventData[] = [
    {
      type: 'order.created',
      data: {
        idempotencyKey: order.idempotencyKey,
        requestHash: order.requestHash,
        items: order.items,
        totalCents: order.totalCents,
        currency: order.currency,
      },
    },
  ];
  if (order.paymentId !== null)
    events.push({ type: 'order.confirmed', data: { paymentId: order.paymentId } });
  if (order.paymentFailure !== null) {
    const reason = order.statusReason ?? '';
    const prefix = `${order.paymentFailure}: `;
    events.push({
      type: 'order.payment_failed',
      data: {
        failure: order.paymentFailure,
        reason: reason.startsWith(prefix) ? reason.slice(prefix.length) : reason,
      },
    });
  }
  if (order.status === 'fulfilled') events.push({ type: 'order.fulfilled', data: { eventId: 'imported' } });
  if (order.status === 'cancelled') {
    events.push({ type: 'order.cancelled', data: { reason: order.statusReason ?? 'cancelled' } });
  }
  return events;
}

/**
 * Gives an order written before migration 10 its stream (see {@link legacyEvents}), in the caller's transaction, and
 * returns its state. Throws {@link OrderVersionConflictError} when another writer imported it first.
 */
export async function importLegacyOrder(
  s: SqlSession,
  order: Order,
  newId: () => string,
): Promise<OrderState> {
  let state: OrderState | undefined;
  for (const [i, data] of legacyEvents(order).entries()) {
    const event = {
      ...data,
      eventId: newId(),
      tenantId: order.tenantId,
      orderId: order.id,
      version: i + 1,
      at: i === 0 ? order.createdAt : order.updatedAt,
      actor: 'system:import',
    } as OrderEvent;
    if (!(await insertEvent(s, event))) throw new OrderVersionConflictError(order.tenantId, order.id, i);
    state = evolve(state, event);
  }
  if (state === undefined) throw new Error(`order ${order.id}: nothing to import`);
  // The row keeps what it says (its texts and times); it only learns its version, and the stock it holds and its
  // saga become visible in their projections.
  await s.run('UPDATE orders SET version = ? WHERE tenant_id = ? AND id = ?', [
    state.version,
    order.tenantId,
    order.id,
  ]);
  if (state.reserved) await insertReservations(s, state);
  if (state.saga.step !== 'completed') await writeSaga(s, state, order.updatedAt);
  return state;
}
