import { randomUUID } from 'node:crypto';
import { checkNumber, invalidOption, systemClock, type Clock } from '@ballast/core';
import { StaleTokenError, type Lease, type LeaseStore } from '@ballast/resilience';
import { recordUsage } from '../billing/usage.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import { InvalidCursorError } from './errors.js';
import {
  decideCancel,
  decideChargeOutcome,
  foldOrder,
  type OrderEvent,
  type OrderEventData,
  type OrderState,
  type PaymentFailureKind,
} from '../orders/events.js';
import {
  appendOrderEvents,
  IdempotencyKeyTaken,
  importLegacyOrder,
  isOrderVersionConflictError,
  loadOrderEvents,
  rebuildProjections,
} from './order-store.js';
import type {
  AuditEntry,
  CancelOrderResult,
  CreateOrderInput,
  CreateOrderResult,
  FlagOverride,
  FulfilmentOutcome,
  NewAuditEntry,
  OpenSaga,
  Order,
  OrderItem,
  OrderLineInput,
  OrderStatus,
  OutboxRecord,
  OutboxStats,
  Page,
  PageRequest,
  PaymentOutcome,
  Plan,
  Product,
  RebuildReport,
  RecordCompensationResult,
  RecordPaymentResult,
  RelayFence,
  Repository,
  StockReservation,
  Tenant,
} from './repository.js';
import type { SqlDriver, SqlRow, SqlSession } from './sql-driver.js';

/** Options shared by both adapters. */
export interface RepositoryOptions {
  /** Source of every timestamp the store writes. @default systemClock */
  readonly clock?: Clock;
  /** Makes order and event ids. @default crypto.randomUUID */
  readonly newId?: () => string;
}

/** Thrown inside a transaction to roll it back and hand `result` to the caller. */
class Rollback<T> extends Error {
  constructor(readonly result: T) {
    super('rollback');
  }
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null =>
  typeof v === 'string' ? v : v == null ? null : JSON.stringify(v);
const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
const GLOBAL_SCOPE = '*';

function toTenant(r: SqlRow): Tenant {
  return {
    id: String(r.id),
    name: String(r.name),
    plan: r.plan as Plan,
    apiKeyHash: String(r.api_key_hash),
    createdAt: num(r.created_at),
  };
}

function toProduct(r: SqlRow): Product {
  return {
    tenantId: String(r.tenant_id),
    id: String(r.id),
    name: String(r.name),
    priceCents: num(r.price_cents),
    currency: String(r.currency),
    stock: num(r.stock),
    updatedAt: num(r.updated_at),
  };
}

function toItem(r: SqlRow): OrderItem {
  return {
    productId: String(r.product_id),
    name: String(r.name),
    quantity: num(r.quantity),
    unitPriceCents: num(r.unit_price_cents),
  };
}

function toOrder(r: SqlRow, items: readonly OrderItem[]): Order {
  return {
    tenantId: String(r.tenant_id),
    id: String(r.id),
    idempotencyKey: String(r.idempotency_key),
    requestHash: String(r.request_hash),
    status: r.status as OrderStatus,
    items,
    totalCents: num(r.total_cents),
    currency: String(r.currency),
    paymentId: strOrNull(r.payment_id),
    paymentFailure: (strOrNull(r.payment_failure) as PaymentFailureKind | null) ?? null,
    statusReason: strOrNull(r.status_reason),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    deletedAt: numOrNull(r.deleted_at),
  };
}

function toAudit(r: SqlRow): AuditEntry {
  return {
    seq: r.tenant_seq === null || r.tenant_seq === undefined ? num(r.seq) : num(r.tenant_seq),
    tenantId: strOrNull(r.tenant_id),
    at: num(r.at),
    actor: String(r.actor),
    action: String(r.action),
    targetType: String(r.target_type),
    targetId: String(r.target_id),
    details: JSON.parse(String(r.details)) as Record<string, unknown>,
  };
}

function toOutbox(r: SqlRow): OutboxRecord {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    aggregateType: String(r.aggregate_type),
    aggregateId: String(r.aggregate_id),
    type: String(r.type),
    payload: String(r.payload),
    createdAt: num(r.created_at),
    attempts: num(r.attempts),
    lastError: strOrNull(r.last_error),
  };
}

function checkId(name: string, value: unknown, max = 200): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalidOption(name, `a non-empty string of at most ${max} characters`, value);
  }
  return value;
}

/**
 * The one implementation of {@link Repository}, written against {@link SqlDriver}; the SQLite and PostgreSQL
 * adapters differ only in their driver. Use `createSqliteRepository` or `createPostgresRepository`.
 *
 * @example
 * ```ts
 * import { createSqliteRepository } from './data/index.js';
 * const repo: SqlRepository = await createSqliteRepository({ path: 'retailflow.db' });
 * ```
 */
export class SqlRepository implements Repository {
  readonly kind: 'sqlite' | 'postgres';
  readonly #driver: SqlDriver;
  readonly #clock: Clock;
  readonly #newId: () => string;
  readonly #forUpdate: string;
  readonly #skipLocked: string;
  readonly #forShare: string;

  constructor(driver: SqlDriver, options: RepositoryOptions = {}) {
    this.#driver = driver;
    this.kind = driver.dialect;
    this.#clock = options.clock ?? systemClock;
    this.#newId = options.newId ?? randomUUID;
    this.#forUpdate = driver.dialect === 'postgres' ? ' FOR UPDATE' : '';
    this.#skipLocked = driver.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    this.#forShare = driver.dialect === 'postgres' ? ' FOR SHARE' : '';
  }

  /** The connection layer, for stores that keep their own tables in this database (API keys). */
  get driver(): SqlDriver {
    return this.#driver;
  }

  #now(): number {
    return Math.floor(this.#clock.now());
  }

  async #tx<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    try {
      return await this.#driver.transaction(fn);
    } catch (error) {
      if (error instanceof Rollback) return error.result as T;
      throw error;
    }
  }

  // ---- tenants ----

  async findTenantByApiKeyHash(apiKeyHash: string): Promise<Tenant | undefined> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT * FROM tenants WHERE api_key_hash = ?', [apiKeyHash]),
    );
    return rows[0] && toTenant(rows[0]);
  }

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const rows = await this.#driver.read((s) => s.all('SELECT * FROM tenants WHERE id = ?', [tenantId]));
    return rows[0] && toTenant(rows[0]);
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.#driver.read((s) => s.all('SELECT * FROM tenants ORDER BY id'));
    return rows.map(toTenant);
  }

  async upsertTenant(tenant: { id: string; name: string; plan: Plan; apiKeyHash: string }): Promise<Tenant> {
    checkId('tenant.id', tenant.id);
    if (tenant.plan !== 'free' && tenant.plan !== 'pro')
      throw invalidOption('tenant.plan', "'free' or 'pro'", tenant.plan);
    checkId('tenant.apiKeyHash', tenant.apiKeyHash);
    const rows = await this.#tx((s) =>
      s.all(
        `INSERT INTO tenants (id, name, plan, api_key_hash, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, plan = excluded.plan, api_key_hash = excluded.api_key_hash
         RETURNING *`,
        [tenant.id, tenant.name, tenant.plan, tenant.apiKeyHash, this.#now()],
      ),
    );
    return toTenant(rows[0]!);
  }

  // ---- catalog ----

  async getProduct(tenantId: string, productId: string): Promise<Product | undefined> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT * FROM products WHERE tenant_id = ? AND id = ?', [tenantId, productId]),
    );
    return rows[0] && toProduct(rows[0]);
  }

  async listProducts(tenantId: string, page: PageRequest = {}): Promise<Page<Product>> {
    const limit = pageLimit(page.limit);
    const after = page.cursor === undefined ? undefined : String(decodeCursor(page.cursor, ['s'])[0]);
    const rows = await this.#driver.read((s) =>
      after === undefined
        ? s.all('SELECT * FROM products WHERE tenant_id = ? ORDER BY id LIMIT ?', [tenantId, limit + 1])
        : s.all('SELECT * FROM products WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?', [
            tenantId,
            after,
            limit + 1,
          ]),
    );
    const items = rows.slice(0, limit).map(toProduct);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  }

  async ensureProduct(product: Omit<Product, 'updatedAt'>): Promise<Product> {
    checkId('product.id', product.id);
    checkNumber('product.priceCents', product.priceCents, 0, { integer: true, min: 0 });
    checkNumber('product.stock', product.stock, 0, { integer: true, min: 0 });
    const rows = await this.#tx(async (s) => {
      await s.run(
        `INSERT INTO products (tenant_id, id, name, price_cents, currency, stock, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO NOTHING`,
        [
          product.tenantId,
          product.id,
          product.name,
          product.priceCents,
          product.currency,
          product.stock,
          this.#now(),
        ],
      );
      return s.all('SELECT * FROM products WHERE tenant_id = ? AND id = ?', [product.tenantId, product.id]);
    });
    return toProduct(rows[0]!);
  }

  async setStock(tenantId: string, productId: string, stock: number): Promise<Product | undefined> {
    checkNumber('stock', stock, 0, { integer: true, min: 0 });
    const rows = await this.#tx((s) =>
      s.all('UPDATE products SET stock = ?, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING *', [
        stock,
        this.#now(),
        tenantId,
        productId,
      ]),
    );
    return rows[0] && toProduct(rows[0]);
  }

  // ---- orders ----

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
   * Runs a command on one order: loads its stream, folds it, lets `fn` decide and append (expecting the version it
   * read), all in one transaction. A concurrent append to the same stream makes the loser's transaction roll back
   * with an `OrderVersionConflictError`; the command is then decided again on the new state (up to 5 times).
   */
  async #onOrder<T>(
    tenantId: string,
    orderId: string,
    notFound: T,
    fn: (s: SqlSession, state: OrderState) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#tx(async (s) => {
          const state = await this.#stateOf(s, tenantId, orderId);
          return state === undefined ? notFound : fn(s, state);
        });
      } catch (error) {
        if (!isOrderVersionConflictError(error) || attempt >= 5) throw error;
      }
    }
  }

  /** The order folded from its stream; an order written before streams existed gets its stream first. */
  async #stateOf(s: SqlSession, tenantId: string, orderId: string): Promise<OrderState | undefined> {
    const state = foldOrder(await loadOrderEvents(s, tenantId, orderId));
    if (state !== undefined) return state;
    const legacy = await this.#orderWhere(s, 'tenant_id = ? AND id = ?', [tenantId, orderId]);
    return legacy && importLegacyOrder(s, legacy, this.#newId);
  }

  #append(
    s: SqlSession,
    state: OrderState,
    events: readonly OrderEventData[],
    actor: string,
    at: number,
  ): Promise<{ state: OrderState; appended: OrderEvent[] }> {
    return appendOrderEvents(s, {
      tenantId: state.order.tenantId,
      orderId: state.order.id,
      state,
      events,
      at,
      actor,
      newId: this.#newId,
    });
  }

  async #appendAudit(s: SqlSession, entry: NewAuditEntry, at: number): Promise<AuditEntry> {
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

    // Row locks on stock are what concurrent checkouts queue on (a popular product is one row), so the
    // transaction takes them last: the order, its items, its outbox event and its audit entry are written first,
    // then the stock is reserved and the transaction commits. A replayed key is found by the insert itself (the
    // unique (tenant_id, idempotency_key) index), not by a read before it: one round trip fewer per checkout.
    const result = await this.#tx<CreateOrderResult | 'lost_race'>(async (s) => {
      const ids = [...quantities.keys()];
      const productRows = await s.all(
        `SELECT * FROM products WHERE tenant_id = ? AND id IN (${marks(ids.length)})`,
        [tenantId, ...ids],
      );
      const products = new Map(productRows.map((r) => [String(r.id), toProduct(r)]));
      const missing = ids.find((id) => !products.has(id));
      if (missing !== undefined) {
        // An unknown product is only an error for a new key: a replay answers what the key first produced.
        const prior = await this.#byKey(s, tenantId, key);
        return prior ? existing(prior) : { outcome: 'unknown_product', productId: missing };
      }
      const currencies = new Set([...products.values()].map((p) => p.currency));
      if (currencies.size > 1)
        throw invalidOption('items', 'products priced in one currency', [...currencies]);

      const items: OrderItem[] = ids.map((id) => {
        const p = products.get(id)!;
        return { productId: id, name: p.name, quantity: quantities.get(id)!, unitPriceCents: p.priceCents };
      });
      const at = this.#now();
      // The order is its `order.created` event; the projections (order list, items, reservations, saga) and the
      // outbox row are written with it. The unique (tenant_id, idempotency_key) of the order list decides
      // duplicates, earlier or concurrent: the loser inserts nothing (on PostgreSQL it waits for the winner to
      // commit first) and reads the winner's order after rolling back.
      let order: Order;
      try {
        const { state } = await appendOrderEvents(s, {
          tenantId,
          orderId: this.#newId(),
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
          newId: this.#newId,
        });
        order = state.order;
      } catch (error) {
        if (error instanceof IdempotencyKeyTaken) throw new Rollback('lost_race' as const);
        throw error;
      }
      await this.#appendAudit(
        s,
        {
          tenantId,
          actor,
          action: 'order.created',
          targetType: 'order',
          targetId: order.id,
          details: { idempotencyKey: key, totalCents: order.totalCents, items: items.length },
        },
        at,
      );

      // Reserve in product-id order so concurrent checkouts lock rows in one order (no deadlocks).
      for (const id of [...ids].sort()) {
        const quantity = quantities.get(id)!;
        const changed = await s.run(
          'UPDATE products SET stock = stock - ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND stock >= ?',
          [quantity, at, tenantId, id, quantity],
        );
        if (changed === 0) {
          const rows = await s.all('SELECT stock FROM products WHERE tenant_id = ? AND id = ?', [
            tenantId,
            id,
          ]);
          throw new Rollback<CreateOrderResult>({
            outcome: 'insufficient_stock',
            productId: id,
            requested: quantity,
            available: num(rows[0]?.stock ?? 0),
          });
        }
      }
      return { outcome: 'created', order };
    });
    if (result !== 'lost_race') return result;
    const winner = await this.#driver.read((s) => this.#byKey(s, tenantId, key));
    if (!winner) throw new Error(`order with idempotency key ${key} vanished after a unique-key conflict`);
    return existing(winner);
  }

  getOrder(tenantId: string, orderId: string): Promise<Order | undefined> {
    return this.#driver.read((s) => this.#orderWhere(s, 'tenant_id = ? AND id = ?', [tenantId, orderId]));
  }

  findOrderByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<Order | undefined> {
    return this.#driver.read((s) => this.#byKey(s, tenantId, idempotencyKey));
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
    return this.#driver.read(async (s) => {
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

  async #release(s: SqlSession, order: Order, at: number): Promise<void> {
    for (const item of [...order.items].sort((a, b) => (a.productId < b.productId ? -1 : 1))) {
      await s.run('UPDATE products SET stock = stock + ?, updated_at = ? WHERE tenant_id = ? AND id = ?', [
        item.quantity,
        at,
        order.tenantId,
        item.productId,
      ]);
    }
  }

  recordPayment(input: {
    tenantId: string;
    orderId: string;
    payment: PaymentOutcome;
    actor?: string;
  }): Promise<RecordPaymentResult> {
    const { tenantId, orderId, payment } = input;
    return this.#onOrder<RecordPaymentResult>(
      tenantId,
      orderId,
      { outcome: 'not_found' },
      async (s, state) => {
        const events = decideChargeOutcome(state, payment);
        if (events.length === 0) return { outcome: 'unchanged', order: state.order, saga: state.saga.step };
        const at = this.#now();
        const actor = input.actor ?? 'system';
        const { state: after } = await this.#append(s, state, events, actor, at);
        if (state.reserved && !after.reserved) await this.#release(s, state.order, at);
        // The billing meter: one unit per placed order, committed with the confirmation or not at all.
        if (payment.ok) {
          await recordUsage(s, {
            type: 'order.placed',
            tenantId,
            subject: orderId,
            quantity: 1,
            occurredAt: at,
          });
        }
        await this.#appendAudit(
          s,
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
          at,
        );
        if (after.order.status === 'cancelled') {
          await this.#appendAudit(
            s,
            {
              tenantId,
              actor,
              action: 'order.cancelled',
              targetType: 'order',
              targetId: orderId,
              details: {
                reason: after.order.statusReason,
                previousStatus: 'pending',
                requestedEarlier: true,
              },
            },
            at,
          );
        }
        return { outcome: 'updated', order: after.order, saga: after.saga.step };
      },
    );
  }

  cancelOrder(input: {
    tenantId: string;
    orderId: string;
    actor?: string;
    reason?: string;
  }): Promise<CancelOrderResult> {
    const { tenantId, orderId } = input;
    return this.#onOrder<CancelOrderResult>(tenantId, orderId, { outcome: 'not_found' }, async (s, state) => {
      const reason = input.reason ?? 'cancelled by tenant';
      const decision = decideCancel(state, reason);
      if (decision.events.length === 0) {
        return { outcome: decision.outcome, order: state.order, saga: state.saga.step };
      }
      const at = this.#now();
      const actor = input.actor ?? `tenant:${tenantId}`;
      const { state: after } = await this.#append(s, state, decision.events, actor, at);
      if (state.reserved && !after.reserved) await this.#release(s, state.order, at);
      await this.#appendAudit(
        s,
        {
          tenantId,
          actor,
          action: decision.outcome === 'cancelled' ? 'order.cancelled' : 'order.cancel_requested',
          targetType: 'order',
          targetId: orderId,
          details: { reason, previousStatus: state.order.status },
        },
        at,
      );
      return { outcome: decision.outcome, order: after.order, saga: after.saga.step };
    });
  }

  recordCompensation(input: {
    tenantId: string;
    orderId: string;
    chargeId: string | null;
  }): Promise<RecordCompensationResult> {
    const { tenantId, orderId } = input;
    return this.#onOrder<RecordCompensationResult>(
      tenantId,
      orderId,
      { outcome: 'not_found' },
      async (s, state) => {
        if (state.saga.step !== 'voiding' && state.saga.step !== 'refunding') {
          return { outcome: 'unchanged', order: state.order };
        }
        const at = this.#now();
        const { state: after } = await this.#append(
          s,
          state,
          [{ type: 'order.refunded', data: { chargeId: input.chargeId } }],
          'system',
          at,
        );
        await this.#appendAudit(
          s,
          {
            tenantId,
            actor: 'system',
            action: 'order.refunded',
            targetType: 'order',
            targetId: orderId,
            details: { chargeId: input.chargeId, compensated: state.saga.step },
          },
          at,
        );
        return { outcome: 'recorded', order: after.order };
      },
    );
  }

  orderEvents(tenantId: string, orderId: string): Promise<OrderEvent[]> {
    return this.#driver.read((s) => loadOrderEvents(s, tenantId, orderId));
  }

  async listOpenSagas(options: { updatedBefore: number; limit?: number }): Promise<OpenSaga[]> {
    const limit = pageLimit(options.limit ?? 100);
    const updatedBefore = checkNumber('updatedBefore', options.updatedBefore, 0);
    return this.#driver.read(async (s) => {
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
    const rows = await this.#driver.read((s) =>
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
    return this.#tx(async (s) => {
      const report: RebuildReport = { ...(await rebuildProjections(s, this.kind)), dryRun };
      if (dryRun) throw new Rollback(report);
      return report;
    });
  }

  // ---- audit ----

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    checkId('action', entry.action);
    checkId('actor', entry.actor);
    return this.#tx((s) => this.#appendAudit(s, entry, this.#now()));
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
    const rows = await this.#driver.read(async (s) => {
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

  // ---- flags ----

  setFlagOverride(input: {
    tenantId: string | null;
    flag: string;
    enabled: boolean | null;
    actor: string;
  }): Promise<void> {
    checkId('flag', input.flag);
    const scope = input.tenantId ?? GLOBAL_SCOPE;
    return this.#tx(async (s) => {
      const at = this.#now();
      if (input.enabled === null) {
        await s.run('DELETE FROM flag_overrides WHERE scope = ? AND flag = ?', [scope, input.flag]);
      } else {
        await s.run(
          `INSERT INTO flag_overrides (scope, flag, enabled, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (scope, flag) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at`,
          [scope, input.flag, input.enabled ? 1 : 0, at],
        );
      }
      await this.#appendAudit(
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
    const rows = await this.#driver.read((s) =>
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

  // ---- outbox ----

  async claimOutbox(options: {
    limit: number;
    leaseMs: number;
    fence?: RelayFence;
  }): Promise<OutboxRecord[]> {
    const limit = checkNumber('limit', options.limit, 0, { integer: true, min: 1 });
    const leaseMs = checkNumber('leaseMs', options.leaseMs, 0, { min: 1 });
    const now = this.#now();
    const rows = await this.#tx(async (s) => {
      if (options.fence) await this.#checkFence(s, options.fence, now);
      return s.all(
        `UPDATE outbox SET locked_until = ?, claim_token = ? WHERE seq IN (
           SELECT seq FROM outbox
           WHERE published_at IS NULL AND dead_lettered_at IS NULL AND next_attempt_at <= ? AND locked_until <= ?
           ORDER BY seq LIMIT ?${this.#skipLocked})
         RETURNING *`,
        [now + Math.ceil(leaseMs), options.fence?.token ?? null, now, now, limit],
      );
    });
    return rows.sort((a, b) => num(a.seq) - num(b.seq)).map(toOutbox);
  }

  async markPublished(ids: readonly string[], fence?: RelayFence): Promise<void> {
    if (ids.length === 0) return;
    await this.#tx(async (s) => {
      if (fence) await this.#checkFence(s, fence, undefined);
      await s.run(`UPDATE outbox SET published_at = ?, locked_until = 0 WHERE id IN (${marks(ids.length)})`, [
        this.#now(),
        ...ids,
      ]);
    });
  }

  /**
   * Refuses with StaleTokenError unless the lease row still carries the fence's token (and, when `now` is given,
   * has not expired). On PostgreSQL the row is share-locked until the transaction ends, so a new holder's acquire
   * (which updates the row) waits for this write, and every write after that acquire sees the new token.
   */
  async #checkFence(s: SqlSession, fence: RelayFence, now: number | undefined): Promise<void> {
    const [row] = await s.all(`SELECT token, expires_at FROM relay_leases WHERE key = ?${this.#forShare}`, [
      fence.key,
    ]);
    const token = row ? num(row.token) : 0;
    if (!row || token !== fence.token || (now !== undefined && num(row.expires_at) <= now)) {
      throw new StaleTokenError(`relay_leases/${fence.key}`, fence.token, Math.max(token, fence.token));
    }
  }

  /** The relays' leadership leases in `relay_leases`, on the repository's clock. */
  readonly relayLeases: LeaseStore = {
    tryAcquire: (key, owner, ttlMs) => {
      const now = this.#now();
      return this.#tx(async (s): Promise<Lease | undefined> => {
        const [row] = await s.all(
          `SELECT owner, token, expires_at FROM relay_leases WHERE key = ?${this.#forUpdate}`,
          [key],
        );
        const expiresAt = now + Math.ceil(ttlMs);
        if (!row) {
          const inserted = await s.run(
            'INSERT INTO relay_leases (key, owner, token, expires_at) VALUES (?, ?, 1, ?) ON CONFLICT (key) DO NOTHING',
            [key, owner, expiresAt],
          );
          return inserted === 1 ? { key, owner, token: 1, expiresAt } : undefined;
        }
        const live = row.owner !== null && num(row.expires_at) > now;
        if (live && row.owner !== owner) return undefined;
        const token = live ? num(row.token) : num(row.token) + 1;
        await s.run('UPDATE relay_leases SET owner = ?, token = ?, expires_at = ? WHERE key = ?', [
          owner,
          token,
          expiresAt,
          key,
        ]);
        return { key, owner, token, expiresAt };
      });
    },
    renew: async (lease, ttlMs) => {
      const now = this.#now();
      const expiresAt = now + Math.ceil(ttlMs);
      const changed = await this.#tx((s) =>
        s.run(
          'UPDATE relay_leases SET expires_at = ? WHERE key = ? AND owner = ? AND token = ? AND expires_at > ?',
          [expiresAt, lease.key, lease.owner, lease.token, now],
        ),
      );
      return changed === 1 ? { ...lease, expiresAt } : undefined;
    },
    release: async (lease) => {
      const now = this.#now();
      const changed = await this.#tx((s) =>
        s.run(
          'UPDATE relay_leases SET owner = NULL, expires_at = 0 WHERE key = ? AND owner = ? AND token = ? AND expires_at > ?',
          [lease.key, lease.owner, lease.token, now],
        ),
      );
      return changed === 1;
    },
    current: async (key) => {
      const [row] = await this.#driver.read((s) =>
        s.all('SELECT owner, token, expires_at FROM relay_leases WHERE key = ?', [key]),
      );
      if (!row || row.owner === null || num(row.expires_at) <= this.#now()) return undefined;
      return { key, owner: row.owner as string, token: num(row.token), expiresAt: num(row.expires_at) };
    },
  };

  async markFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    await this.#tx((s) =>
      s.run(
        'UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, locked_until = 0 WHERE id = ?',
        [error.slice(0, 2000), Math.ceil(nextAttemptAt), id],
      ),
    );
  }

  async markDeadLettered(id: string, error: string): Promise<void> {
    await this.#tx((s) =>
      s.run(
        'UPDATE outbox SET attempts = attempts + 1, last_error = ?, dead_lettered_at = ?, locked_until = 0 WHERE id = ?',
        [error.slice(0, 2000), this.#now(), id],
      ),
    );
  }

  async releaseClaims(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#tx((s) =>
      s.run(`UPDATE outbox SET locked_until = 0 WHERE id IN (${marks(ids.length)})`, [...ids]),
    );
  }

  async outboxStats(): Promise<OutboxStats> {
    const now = this.#now();
    const [pending, dead] = await this.#driver.read(async (s) => [
      await s.all(
        'SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL',
      ),
      await s.all('SELECT COUNT(*) AS n FROM outbox WHERE dead_lettered_at IS NOT NULL'),
    ]);
    const oldest = numOrNull(pending[0]?.oldest);
    return {
      depth: num(pending[0]?.depth ?? 0),
      oldestCreatedAt: oldest,
      lagMs: oldest === null ? 0 : Math.max(0, now - oldest),
      deadLettered: num(dead[0]?.n ?? 0),
    };
  }

  async listDeadLettered(limit = 100): Promise<OutboxRecord[]> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT * FROM outbox WHERE dead_lettered_at IS NOT NULL ORDER BY seq LIMIT ?', [
        pageLimit(limit),
      ]),
    );
    return rows.map(toOutbox);
  }

  async requeueDeadLettered(id: string): Promise<boolean> {
    const changed = await this.#tx((s) =>
      s.run(
        `UPDATE outbox SET dead_lettered_at = NULL, attempts = 0, next_attempt_at = ?, locked_until = 0
         WHERE id = ? AND dead_lettered_at IS NOT NULL`,
        [this.#now(), id],
      ),
    );
    return changed > 0;
  }

  pruneOutbox(publishedBefore: number): Promise<number> {
    checkNumber('publishedBefore', publishedBefore, 0);
    return this.#tx((s) =>
      s.run('DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?', [
        Math.floor(publishedBefore),
      ]),
    );
  }

  // ---- fulfilment ----

  fulfilOrder(input: {
    consumer: string;
    eventId: string;
    tenantId: string;
    orderId: string;
  }): Promise<FulfilmentOutcome> {
    checkId('consumer', input.consumer);
    checkId('eventId', input.eventId);
    return this.#tx(async (s) => {
      const at = this.#now();
      // The processed-event row commits with the effect or not at all; a concurrent duplicate waits on the
      // primary key (PostgreSQL) and then inserts nothing.
      const fresh = await s.all(
        `INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)
         ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id`,
        [input.consumer, input.eventId, at],
      );
      if (fresh.length === 0) return 'duplicate';
      // The stream is read and appended to under the processed-event row's lock: a concurrent cancellation that
      // appends first makes this append fail on the version, and the whole delivery is retried.
      const state = await this.#stateOf(s, input.tenantId, input.orderId);
      if (state?.order.status !== 'confirmed') return 'skipped';
      await this.#append(
        s,
        state,
        [{ type: 'order.fulfilled', data: { eventId: input.eventId } }],
        `consumer:${input.consumer}`,
        at,
      );
      await s.run('INSERT INTO shipments (tenant_id, order_id, event_id, shipped_at) VALUES (?, ?, ?, ?)', [
        input.tenantId,
        input.orderId,
        input.eventId,
        at,
      ]);
      await this.#appendAudit(
        s,
        {
          tenantId: input.tenantId,
          actor: `consumer:${input.consumer}`,
          action: 'order.fulfilled',
          targetType: 'order',
          targetId: input.orderId,
          details: { eventId: input.eventId },
        },
        at,
      );
      return 'fulfilled';
    });
  }

  async countShipments(tenantId?: string): Promise<number> {
    const rows = await this.#driver.read((s) =>
      tenantId === undefined
        ? s.all('SELECT COUNT(*) AS n FROM shipments')
        : s.all('SELECT COUNT(*) AS n FROM shipments WHERE tenant_id = ?', [tenantId]),
    );
    return num(rows[0]?.n ?? 0);
  }

  async isProcessed(consumer: string, eventId: string): Promise<boolean> {
    const rows = await this.#driver.read((s) =>
      s.all('SELECT 1 AS one FROM processed_events WHERE consumer = ? AND event_id = ?', [consumer, eventId]),
    );
    return rows.length > 0;
  }

  // ---- operations ----

  async health(): Promise<void> {
    if (this.kind === 'sqlite') {
      await this.#driver.read((s) => s.all('SELECT 1 AS ok'));
      return;
    }
    // A standby answers queries but refuses writes: an instance pointed at one (a region whose database has not
    // been promoted, or an old primary that came back as a standby) must not be sent traffic.
    const [row] = await this.#driver.read((s) => s.all('SELECT pg_is_in_recovery() AS standby'));
    if (row?.standby === true) {
      throw new Error('the database is a read-only standby (in recovery): not promoted, or fenced');
    }
  }

  close(): Promise<void> {
    return this.#driver.close();
  }
}
