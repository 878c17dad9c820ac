import { recordUsage, type UsageEvent } from '../billing/usage.js';
import {
  evolve,
  PUBLISHED_ORDER_EVENTS,
  publishedPayload,
  type OrderEvent,
  type OrderEventData,
  type OrderState,
} from '../orders/events.js';
import { appendAuditEntry } from './audit-store.js';
import {
  IdempotencyKeyTaken,
  insertOrderRows,
  insertReservations,
  OrderVersionConflictError,
  writeSaga,
  type SqlStatement,
} from './order-streams.js';
import type { NewAuditEntry } from './repository.js';
import type { SqlSession } from './sql-driver.js';

/** Units of one product taken (`delta` < 0, never below zero) or given back (`delta` > 0). */
export interface StockMove {
  readonly productId: string;
  readonly delta: number;
}

/**
 * Everything one command writes for one order, decided in memory before any statement runs: the events appended
 * to its stream, the projections and outbox rows they make, the stock the reservations take or give back, and the
 * usage and audit rows the command adds. Written whole or not at all, one statement after another
 * ({@link writeOneByOne}, inside a transaction) or as one statement on PostgreSQL (`writeInOneStatement`).
 */
export interface OrderWrites {
  readonly tenantId: string;
  readonly orderId: string;
  readonly at: number;
  /** The stream's version the events were decided on (0 for a new order): the append expects it. */
  readonly expectedVersion: number;
  readonly events: readonly OrderEvent[];
  /** The order after the events. */
  readonly after: OrderState;
  /** A new order: its row, items and reservations are inserted (an existing one's row is updated). */
  readonly created: boolean;
  /** The order's reservations end with these events (its stock is given back). */
  readonly releaseReservations: boolean;
  /** An event changed the saga: its row is written as `after` has it (deleted once completed). */
  readonly sagaChanged: boolean;
  /** The published events with their payloads (the order as it was after each). */
  readonly outbox: readonly { readonly event: OrderEvent; readonly payload: string }[];
  /** In product-id order, so concurrent commands lock stock rows in one order. */
  readonly stock: readonly StockMove[];
  readonly usage: readonly Omit<UsageEvent, 'id'>[];
  /** Entries of the order's tenant, numbered in this order. */
  readonly audit: readonly NewAuditEntry[];
  /**
   * Rows of other tables the command writes with the order (plain INSERTs, e.g. a consumer's processed-event
   * record), first: a unique violation among them fails the whole write.
   */
  readonly also: readonly SqlStatement[];
}

/** What {@link planOrderAppend} appends. */
export interface OrderAppend {
  readonly tenantId: string;
  readonly orderId: string;
  /** The state the events were decided on (`undefined` for a new order): its version is the expected one. */
  readonly state: OrderState | undefined;
  readonly events: readonly OrderEventData[];
  readonly at: number;
  readonly actor: string;
  readonly newId: () => string;
}

/**
 * A command's events took more units of a product than its stock holds (nothing of the command was written).
 * Internal: the order store answers `insufficient_stock`.
 */
export class StockShortError extends Error {
  readonly productId: string;
  constructor(productId: string) {
    super(`not enough stock of ${productId}`);
    this.name = 'StockShortError';
    this.productId = productId;
  }
}

const byProduct = (a: StockMove, b: StockMove): number =>
  a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0;

/**
 * Decides what appending `events` writes (pure): the events at the next versions, the projections moved from the
 * state before to the state after, an outbox row per published event, and the stock that follows the
 * reservations (taken when the order is created, given back when its reservations end). Usage and audit are the
 * caller's to add. Throws when there is nothing to append to a new order.
 */
export function planOrderAppend(append: OrderAppend): OrderWrites {
  const before = append.state;
  let state = before;
  const events: OrderEvent[] = [];
  const outbox: { event: OrderEvent; payload: string }[] = [];
  let sagaChanged = before === undefined;
  for (const data of append.events) {
    const event = {
      ...data,
      eventId: append.newId(),
      tenantId: append.tenantId,
      orderId: append.orderId,
      version: (state?.version ?? 0) + 1,
      at: append.at,
      actor: append.actor,
    } as OrderEvent;
    const previous = state;
    state = evolve(previous, event);
    if (
      previous !== undefined &&
      (previous.saga.step !== state.saga.step || previous.saga.cancelRequested !== state.saga.cancelRequested)
    ) {
      sagaChanged = true;
    }
    if (PUBLISHED_ORDER_EVENTS.has(event.type)) {
      outbox.push({ event, payload: JSON.stringify(publishedPayload(state.order)) });
    }
    events.push(event);
  }
  if (state === undefined) throw new Error('planOrderAppend: no events to append to a new order');
  const releaseReservations = before !== undefined && before.reserved && !state.reserved;
  const items = state.order.items;
  const stock: StockMove[] =
    before === undefined && state.reserved
      ? items.map((item) => ({ productId: item.productId, delta: -item.quantity }))
      : releaseReservations
        ? items.map((item) => ({ productId: item.productId, delta: item.quantity }))
        : [];
  return {
    tenantId: append.tenantId,
    orderId: append.orderId,
    at: append.at,
    expectedVersion: before?.version ?? 0,
    events,
    after: state,
    created: before === undefined,
    releaseReservations,
    sagaChanged,
    outbox,
    stock: stock.sort(byProduct),
    usage: [],
    audit: [],
    also: [],
  };
}

/** The columns and values of the event rows (shared by both ways of writing them). */
export function eventRows(events: readonly OrderEvent[]): { values: string; params: unknown[] } {
  return {
    values: events.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', '),
    params: events.flatMap((e) => [
      e.eventId,
      e.tenantId,
      e.orderId,
      e.version,
      e.type,
      JSON.stringify(e.data),
      e.at,
      e.actor,
    ]),
  };
}

/** The outbox rows of the published events. */
export function outboxRows(w: OrderWrites): { values: string; params: unknown[] } {
  return {
    values: w.outbox.map(() => `(?, ?, 'order', ?, ?, ?, ?, ?)`).join(', '),
    params: w.outbox.flatMap(({ event, payload }) => [
      event.eventId,
      event.tenantId,
      event.orderId,
      event.type,
      payload,
      event.at,
      event.at,
    ]),
  };
}

/** The order row's columns a later event changes, and their values (then tenant and id for the WHERE). */
export function orderUpdate(state: OrderState): { set: string; params: unknown[] } {
  const o = state.order;
  return {
    set: `status = ?, payment_id = ?, payment_failure = ?, status_reason = ?, updated_at = ?, deleted_at = ?,
       version = ?`,
    params: [
      o.status,
      o.paymentId,
      o.paymentFailure,
      o.statusReason,
      o.updatedAt,
      o.deletedAt,
      state.version,
      o.tenantId,
      o.id,
    ],
  };
}

/**
 * Writes `w` one statement after another in the caller's transaction `s` (the form SQLite runs, and the one a
 * caller already inside a transaction uses). Throws {@link OrderVersionConflictError} when another writer appended
 * to the stream first, {@link IdempotencyKeyTaken} when a new order's key is taken and {@link StockShortError}
 * when a product's stock cannot cover what the order takes; the caller's transaction then rolls back.
 */
export async function writeOneByOne(s: SqlSession, w: OrderWrites): Promise<void> {
  for (const statement of w.also) await s.run(statement.sql, statement.params);
  const events = eventRows(w.events);
  const inserted = await s.all(
    `INSERT INTO order_events (event_id, tenant_id, order_id, version, type, data, at, actor)
     VALUES ${events.values} ON CONFLICT (tenant_id, order_id, version) DO NOTHING RETURNING version`,
    events.params,
  );
  if (inserted.length < w.events.length) {
    throw new OrderVersionConflictError(w.tenantId, w.orderId, w.expectedVersion);
  }
  if (w.created) {
    if (!(await insertOrderRows(s, w.after))) throw new IdempotencyKeyTaken();
    await insertReservations(s, w.after);
  } else {
    const update = orderUpdate(w.after);
    await s.run(`UPDATE orders SET ${update.set} WHERE tenant_id = ? AND id = ?`, update.params);
  }
  if (w.releaseReservations) {
    await s.run('DELETE FROM stock_reservations WHERE tenant_id = ? AND order_id = ?', [
      w.tenantId,
      w.orderId,
    ]);
  }
  if (w.sagaChanged) await writeSaga(s, w.after, w.after.order.updatedAt);
  if (w.outbox.length > 0) {
    const outbox = outboxRows(w);
    await s.run(
      `INSERT INTO outbox (id, tenant_id, aggregate_type, aggregate_id, type, payload, created_at, next_attempt_at)
       VALUES ${outbox.values}`,
      outbox.params,
    );
  }
  for (const usage of w.usage) await recordUsage(s, usage);
  for (const entry of w.audit) await appendAuditEntry(s, entry, w.at);
  for (const move of w.stock) {
    if (move.delta >= 0) {
      await s.run('UPDATE products SET stock = stock + ?, updated_at = ? WHERE tenant_id = ? AND id = ?', [
        move.delta,
        w.at,
        w.tenantId,
        move.productId,
      ]);
      continue;
    }
    const changed = await s.run(
      'UPDATE products SET stock = stock - ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND stock >= ?',
      [-move.delta, w.at, w.tenantId, move.productId, -move.delta],
    );
    if (changed === 0) throw new StockShortError(move.productId);
  }
}

/**
 * Appends events to an order's stream at the next versions and, in the same transaction (the caller's `s`), updates
 * the projections, writes each published event to the outbox with the event's id and moves the stock the
 * reservations hold. Throws {@link OrderVersionConflictError} when another writer appended first, and
 * {@link IdempotencyKeyTaken} when a new order's key is taken.
 *
 * @example
 * ```ts
 * await driver.transaction((s) => appendOrderEvents(s, { tenantId, orderId, state, events, at, actor, newId }));
 * ```
 */
export async function appendOrderEvents(
  s: SqlSession,
  append: OrderAppend,
): Promise<{ state: OrderState; appended: OrderEvent[] }> {
  const writes = planOrderAppend(append);
  await writeOneByOne(s, writes);
  return { state: writes.after, appended: [...writes.events] };
}
