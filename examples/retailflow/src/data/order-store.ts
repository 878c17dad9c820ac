import { checkNumber, invalidOption } from '@ballast/core';
import {
  decideCancel,
  decideChargeOutcome,
  foldOrder,
  type OrderEvent,
  type OrderEventData,
  type OrderState,
} from '../orders/events.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import {
  IdempotencyKeyTaken,
  importLegacyOrder,
  isOrderVersionConflictError,
  loadOrderEvents,
  rebuildProjections,
} from './order-streams.js';
import { writeInOneStatement } from './order-writes-postgres.js';
import { planOrderAppend, StockShortError, writeOneByOne, type OrderWrites } from './order-writes.js';
import type {
  CancelOrderResult,
  CreateOrderInput,
  CreateOrderResult,
  NewAuditEntry,
  OpenSaga,
  Order,
  OrderItem,
  OrderLineInput,
  OrderStore,
  Page,
  PageRequest,
  PaymentOutcome,
  RebuildReport,
  RecordCompensationResult,
  RecordPaymentResult,
  StockReservation,
} from './repository.js';
import { Rollback, type SqlContext } from './sql-context.js';
import type { SqlSession } from './sql-driver.js';
import { checkId, marks, num, PRODUCT_COLUMNS, toItem, toOrder, toProduct } from './sql-rows.js';

/**
 * Orders as event streams (`order_events`) with their projections (`orders`, `order_items`, `stock_reservations`,
 * `checkout_sagas`) and the stock they reserve on `products`; every command reads the stream, decides with the pure
 * functions of `orders/events.ts` and appends at the next version.
 * Part of {@link SqlRepository}, which composes one of each store over one {@link SqlContext}.
 */
export class SqlOrderStore implements OrderStore {
  private readonly ctx: SqlContext;

  constructor(ctx: SqlContext) {
    this.ctx = ctx;
  }

  async #itemsOf(
    s: SqlSession,
    tenantId: string,
    orderIds: readonly string[],
  ): Promise<Map<string, OrderItem[]>> {
    const byOrder = new Map<string, OrderItem[]>();
    if (orderIds.length === 0) return byOrder;
    const rows = await s.all(
      `SELECT * FROM order_items WHERE tenant_id = ? AND order_id IN (${marks(orderIds.length)}) ORDER BY order_id, line`,
      [tenantId, ...orderIds],
    );
    for (const r of rows) {
      const id = String(r.order_id);
      let list = byOrder.get(id);
      if (!list) byOrder.set(id, (list = []));
      list.push(toItem(r));
    }
    return byOrder;
  }

  async #orderWhere(
    s: SqlSession,
    where: string,
    params: readonly unknown[],
    lock = '',
  ): Promise<Order | undefined> {
    const rows = await s.all(`SELECT * FROM orders WHERE ${where}${lock}`, params);
    const row = rows[0];
    if (!row) return undefined;
    const items = await this.#itemsOf(s, String(row.tenant_id), [String(row.id)]);
    return toOrder(row, items.get(String(row.id)) ?? []);
  }

  #byKey(s: SqlSession, tenantId: string, key: string): Promise<Order | undefined> {
    return this.#orderWhere(s, 'tenant_id = ? AND idempotency_key = ?', [tenantId, key]);
  }

  /**
   * Writes one command's rows whole: as one statement on PostgreSQL (atomic on its own, one round trip), one
   * statement after another in a transaction on SQLite.
   */
  write(writes: OrderWrites): Promise<unknown> {
    return this.ctx.kind === 'postgres'
      ? this.ctx.driver.read((s) => writeInOneStatement(s, writes))
      : this.ctx.tx((s) => writeOneByOne(s, writes));
  }

  /**
   * Runs a command on one order: loads its stream, folds it, lets `decide` say what to answer and what to write,
   * and writes it expecting the version it read (optimistic concurrency: no lock is held between the read and the
   * write). A concurrent append to the same stream makes the loser's write fail with an
   * `OrderVersionConflictError`, leaving nothing of it; the command is then decided again on the new state (up to
   * 5 times). An order written before streams existed gets its stream first, in a transaction of its own.
   */
  async #onOrder<T>(
    tenantId: string,
    orderId: string,
    notFound: T,
    decide: (state: OrderState) => { readonly result: T; readonly writes?: OrderWrites },
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const state = await this.currentState(tenantId, orderId);
        if (state === undefined) return notFound;
        const { result, writes } = decide(state);
        if (writes) await this.write(writes);
        return result;
      } catch (error) {
        if (!isOrderVersionConflictError(error) || attempt >= 5) throw error;
      }
    }
  }

  /**
   * The order folded from its stream as last committed, read outside any transaction; an order written before
   * streams existed gets its stream first, in a transaction of its own.
   */
  async currentState(tenantId: string, orderId: string): Promise<OrderState | undefined> {
    return (
      foldOrder(await this.ctx.driver.read((s) => loadOrderEvents(s, tenantId, orderId))) ??
      (await this.ctx.tx((s) => this.stateOf(s, tenantId, orderId)))
    );
  }

  /** What appending `events` to `state` writes (see {@link planOrderAppend}). */
  plan(state: OrderState, events: readonly OrderEventData[], actor: string, at: number): OrderWrites {
    return planOrderAppend({
      tenantId: state.order.tenantId,
      orderId: state.order.id,
      state,
      events,
      at,
      actor,
      newId: this.ctx.newId,
    });
  }

  /**
   * The order folded from its stream, in the caller's transaction; an order written before streams existed gets
   * its stream first.
   */
  async stateOf(s: SqlSession, tenantId: string, orderId: string): Promise<OrderState | undefined> {
    const state = foldOrder(await loadOrderEvents(s, tenantId, orderId));
    if (state !== undefined) return state;
    const legacy = await this.#orderWhere(s, 'tenant_id = ? AND id = ?', [tenantId, orderId]);
    return legacy && importLegacyOrder(s, legacy, this.ctx.newId);
  }

  async appendEvents(
    s: SqlSession,
    state: OrderState,
    events: readonly OrderEventData[],
    actor: string,
    at: number,
  ): Promise<{ state: OrderState; appended: OrderEvent[] }> {
    const writes = this.plan(state, events, actor, at);
    await writeOneByOne(s, writes);
    return { state: writes.after, appended: [...writes.events] };
  }

  async createOrder(input: CreateOrderInput): Promise<CreateOrderResult> {
    const tenantId = checkId('tenantId', input.tenantId);
    const key = checkId('idempotencyKey', input.idempotencyKey, 255);
    const hash = checkId('requestHash', input.requestHash);
    const lines: readonly OrderLineInput[] = input.items;
    if (!Array.isArray(lines) || lines.length === 0) {
      throw invalidOption('items', 'a non-empty array of { productId, quantity }', lines);
    }
    // One line per product, in first-seen order; quantities of repeated products are added up.
    const quantities = new Map<string, number>();
    lines.forEach((line: OrderLineInput, i) => {
      const productId = checkId(`items[${i}].productId`, line.productId);
      const quantity = checkNumber(`items[${i}].quantity`, line.quantity, 0, {
        integer: true,
        min: 1,
        max: 1_000_000,
      });
      quantities.set(productId, (quantities.get(productId) ?? 0) + quantity);
    });
    const actor = input.actor ?? `tenant:${tenantId}`;

    const existing = (order: Order): CreateOrderResult =>
      order.requestHash === hash ? { outcome: 'replayed', order } : { outcome: 'key_conflict', order };
    const winner = async (): Promise<CreateOrderResult> => {
      const order = await this.ctx.driver.read((s) => this.#byKey(s, tenantId, key));
      if (!order) throw new Error(`order with idempotency key ${key} vanished after a unique-key conflict`);
      return existing(order);
    };

    // The products are read first (names and prices for the order), then the order is written whole: on
    // PostgreSQL as one statement, so a checkout holds its locks (the tenant's audit sequence, the stock rows a
    // popular product makes everyone queue on) only while that statement runs. Under READ COMMITTED the read sees
    // what a read inside the writing transaction would have seen: the catalog as last committed.
    const ids = [...quantities.keys()];
    const productRows = await this.ctx.driver.read((s) =>
      s.all(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE tenant_id = ? AND id IN (${marks(ids.length)})`, [
        tenantId,
        ...ids,
      ]),
    );
    const products = new Map(productRows.map((r) => [String(r.id), toProduct(r)]));
    const missing = ids.find((id) => !products.has(id));
    if (missing !== undefined) {
      // An unknown product is only an error for a new key: a replay answers what the key first produced.
      const prior = await this.ctx.driver.read((s) => this.#byKey(s, tenantId, key));
      return prior ? existing(prior) : { outcome: 'unknown_product', productId: missing };
    }
    const currencies = new Set([...products.values()].map((p) => p.currency));
    if (currencies.size > 1) throw invalidOption('items', 'products priced in one currency', [...currencies]);

    const items: OrderItem[] = ids.map((id) => {
      const p = products.get(id)!;
      return { productId: id, name: p.name, quantity: quantities.get(id)!, unitPriceCents: p.priceCents };
    });
    const at = this.ctx.now();
    // The order is its `order.created` event; the projections (order list, items, reservations, saga), the outbox
    // row and the stock the reservations take are written with it. The unique (tenant_id, idempotency_key) of the
    // order list decides duplicates, earlier or concurrent: the loser writes nothing (on PostgreSQL it waits for
    // the winner to commit first) and reads the winner's order. A replayed key is found by that write itself, not
    // by a read before it.
    const plan = planOrderAppend({
      tenantId,
      orderId: this.ctx.newId(),
      state: undefined,
      events: [
        {
          type: 'order.created',
          data: {
            idempotencyKey: key,
            requestHash: hash,
            items,
            totalCents: items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0),
            currency: [...currencies][0]!,
          },
        },
      ],
      at,
      actor,
      newId: this.ctx.newId,
    });
    const order = plan.after.order;
    const writes: OrderWrites = {
      ...plan,
      audit: [
        {
          tenantId,
          actor,
          action: 'order.created',
          targetType: 'order',
          targetId: order.id,
          details: { idempotencyKey: key, totalCents: order.totalCents, items: items.length },
        },
      ],
    };
    try {
      await this.write(writes);
      return { outcome: 'created', order };
    } catch (error) {
      if (error instanceof IdempotencyKeyTaken) return winner();
      if (!(error instanceof StockShortError)) throw error;
      const rows = await this.ctx.driver.read((s) =>
        s.all('SELECT stock FROM products WHERE tenant_id = ? AND id = ?', [tenantId, error.productId]),
      );
      return {
        outcome: 'insufficient_stock',
        productId: error.productId,
        requested: quantities.get(error.productId) ?? 0,
        available: num(rows[0]?.stock ?? 0),
      };
    }
  }

  getOrder(tenantId: string, orderId: string): Promise<Order | undefined> {
    return this.ctx.driver.read((s) => this.#orderWhere(s, 'tenant_id = ? AND id = ?', [tenantId, orderId]));
  }

  findOrderByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<Order | undefined> {
    return this.ctx.driver.read((s) => this.#byKey(s, tenantId, idempotencyKey));
  }

  async listOrders(
    tenantId: string,
    page: PageRequest & { readonly includeCancelled?: boolean } = {},
  ): Promise<Page<Order>> {
    const limit = pageLimit(page.limit);
    const where = ['tenant_id = ?'];
    const params: unknown[] = [tenantId];
    if (!page.includeCancelled) where.push('deleted_at IS NULL');
    if (page.cursor !== undefined) {
      const [createdAt, id] = decodeCursor(page.cursor, ['n', 's']);
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(createdAt, createdAt, id);
    }
    return this.ctx.driver.read(async (s) => {
      const rows = await s.all(
        `SELECT * FROM orders WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?`,
        [...params, limit + 1],
      );
      const pageRows = rows.slice(0, limit);
      const items = await this.#itemsOf(
        s,
        tenantId,
        pageRows.map((r) => String(r.id)),
      );
      const orders = pageRows.map((r) => toOrder(r, items.get(String(r.id)) ?? []));
      const last = orders.at(-1);
      return {
        items: orders,
        nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null,
      };
    });
  }

  recordPayment(input: {
    tenantId: string;
    orderId: string;
    payment: PaymentOutcome;
    actor?: string;
  }): Promise<RecordPaymentResult> {
    const { tenantId, orderId, payment } = input;
    return this.#onOrder<RecordPaymentResult>(tenantId, orderId, { outcome: 'not_found' }, (state) => {
      const events = decideChargeOutcome(state, payment);
      if (events.length === 0) {
        return { result: { outcome: 'unchanged', order: state.order, saga: state.saga.step } };
      }
      const at = this.ctx.now();
      const actor = input.actor ?? 'system';
      const plan = this.plan(state, events, actor, at);
      const after = plan.after;
      const audit: NewAuditEntry[] = [
        {
          tenantId,
          actor,
          action: payment.ok ? 'order.confirmed' : 'order.payment_failed',
          targetType: 'order',
          targetId: orderId,
          details: payment.ok
            ? { paymentId: payment.paymentId }
            : { failure: payment.failure, reason: after.order.statusReason },
        },
      ];
      if (after.order.status === 'cancelled') {
        audit.push({
          tenantId,
          actor,
          action: 'order.cancelled',
          targetType: 'order',
          targetId: orderId,
          details: { reason: after.order.statusReason, previousStatus: 'pending', requestedEarlier: true },
        });
      }
      return {
        result: { outcome: 'updated', order: after.order, saga: after.saga.step },
        writes: {
          ...plan,
          // The billing meter: one unit per placed order, committed with the confirmation or not at all.
          usage: payment.ok
            ? [{ type: 'order.placed', tenantId, subject: orderId, quantity: 1, occurredAt: at }]
            : [],
          audit,
        },
      };
    });
  }

  cancelOrder(input: {
    tenantId: string;
    orderId: string;
    actor?: string;
    reason?: string;
  }): Promise<CancelOrderResult> {
    const { tenantId, orderId } = input;
    return this.#onOrder<CancelOrderResult>(tenantId, orderId, { outcome: 'not_found' }, (state) => {
      const reason = input.reason ?? 'cancelled by tenant';
      const decision = decideCancel(state, reason);
      if (decision.events.length === 0) {
        return { result: { outcome: decision.outcome, order: state.order, saga: state.saga.step } };
      }
      const actor = input.actor ?? `tenant:${tenantId}`;
      const plan = this.plan(state, decision.events, actor, this.ctx.now());
      return {
        result: { outcome: decision.outcome, order: plan.after.order, saga: plan.after.saga.step },
        writes: {
          ...plan,
          audit: [
            {
              tenantId,
              actor,
              action: decision.outcome === 'cancelled' ? 'order.cancelled' : 'order.cancel_requested',
              targetType: 'order',
              targetId: orderId,
              details: { reason, previousStatus: state.order.status },
            },
          ],
        },
      };
    });
  }

  recordCompensation(input: {
    tenantId: string;
    orderId: string;
    chargeId: string | null;
  }): Promise<RecordCompensationResult> {
    const { tenantId, orderId } = input;
    return this.#onOrder<RecordCompensationResult>(tenantId, orderId, { outcome: 'not_found' }, (state) => {
      if (state.saga.step !== 'voiding' && state.saga.step !== 'refunding') {
        return { result: { outcome: 'unchanged', order: state.order } };
      }
      const plan = this.plan(
        state,
        [{ type: 'order.refunded', data: { chargeId: input.chargeId } }],
        'system',
        this.ctx.now(),
      );
      return {
        result: { outcome: 'recorded', order: plan.after.order },
        writes: {
          ...plan,
          audit: [
            {
              tenantId,
              actor: 'system',
              action: 'order.refunded',
              targetType: 'order',
              targetId: orderId,
              details: { chargeId: input.chargeId, compensated: state.saga.step },
            },
          ],
        },
      };
    });
  }

  orderEvents(tenantId: string, orderId: string): Promise<OrderEvent[]> {
    return this.ctx.driver.read((s) => loadOrderEvents(s, tenantId, orderId));
  }

  async listOpenSagas(options: { updatedBefore: number; limit?: number }): Promise<OpenSaga[]> {
    const limit = pageLimit(options.limit ?? 100);
    const updatedBefore = checkNumber('updatedBefore', options.updatedBefore, 0);
    return this.ctx.driver.read(async (s) => {
      const sagas = await s.all(
        'SELECT * FROM checkout_sagas WHERE updated_at < ? ORDER BY updated_at LIMIT ?',
        [Math.min(Math.floor(updatedBefore), Number.MAX_SAFE_INTEGER), limit],
      );
      const result: OpenSaga[] = [];
      for (const saga of sagas) {
        const order = await this.#orderWhere(s, 'tenant_id = ? AND id = ?', [saga.tenant_id, saga.order_id]);
        if (!order) continue;
        result.push({
          order,
          step: saga.step as OpenSaga['step'],
          cancelRequested: num(saga.cancel_requested) === 1,
          updatedAt: num(saga.updated_at),
        });
      }
      return result;
    });
  }

  async listReservations(tenantId: string): Promise<StockReservation[]> {
    const rows = await this.ctx.driver.read((s) =>
      s.all('SELECT * FROM stock_reservations WHERE tenant_id = ? ORDER BY order_id, product_id', [tenantId]),
    );
    return rows.map((r) => ({
      tenantId: String(r.tenant_id),
      orderId: String(r.order_id),
      productId: String(r.product_id),
      quantity: num(r.quantity),
    }));
  }

  rebuildOrderProjections(options: { readonly dryRun?: boolean } = {}): Promise<RebuildReport> {
    const dryRun = options.dryRun === true;
    return this.ctx.tx(async (s) => {
      const report: RebuildReport = { ...(await rebuildProjections(s, this.ctx.kind)), dryRun };
      if (dryRun) throw new Rollback(report);
      return report;
    });
  }
}
