import type { ChargeOutcome, OrderEvent, PaymentFailureKind, SagaStep } from '../orders/events.js';
/**
 * The storage contract of RetailFlow. One interface, two adapters (SQLite embedded by default, PostgreSQL with
 * `DATABASE_URL`); the HTTP layer, the outbox relay and the fulfilment consumer only ever see this file.
 *
 * Rules every adapter keeps:
 * - every tenant-owned read and write takes a `tenantId`; a row of another tenant is "not found", never "forbidden";
 * - a state change of an order, its inventory effect, its outbox event(s) and its audit entry commit in ONE
 *   transaction (transactional outbox), so an event is published if and only if the change happened;
 * - `(tenant_id, idempotency_key)` is unique: concurrent duplicates of one checkout create one order, and the
 *   losers get `replayed` (same request hash) or `key_conflict` (different hash);
 * - timestamps come from the adapter's injected `Clock` (epoch milliseconds), never from the database.
 */

import type { LeaseStore } from '@ballast/resilience';

/** A tenant's plan; it selects the per-tenant rate limits. */
export type Plan = 'free' | 'pro';

/** A tenant of the service, authenticated by an API key stored only as its SHA-256 hash. */
export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly plan: Plan;
  /** Lower-case hex SHA-256 of the API key (see `hashApiKey`). */
  readonly apiKeyHash: string;
  readonly createdAt: number;
}

/** A catalog entry of one tenant, with its available inventory. */
export interface Product {
  readonly tenantId: string;
  readonly id: string;
  readonly name: string;
  /** Unit price in minor units (cents). */
  readonly priceCents: number;
  /** ISO 4217 code, e.g. `USD`. */
  readonly currency: string;
  /** Units available to reserve; checkout decrements it, cancel and failed payment give units back. */
  readonly stock: number;
  readonly updatedAt: number;
}

/**
 * Life cycle of an order: `pending` (inventory reserved, payment not settled) → `confirmed` (paid) →
 * `fulfilled` (shipped by the fulfilment consumer); or `payment_failed` (inventory released); or `cancelled`
 * (soft-deleted by the tenant; inventory released unless already fulfilled).
 */
export type OrderStatus = 'pending' | 'confirmed' | 'payment_failed' | 'fulfilled' | 'cancelled';

/** One line of an order, priced when the order was created. */
export interface OrderItem {
  readonly productId: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
}

/** An order of one tenant. */
export interface Order {
  readonly tenantId: string;
  readonly id: string;
  readonly idempotencyKey: string;
  /** Hash of the canonical request body (see `requestHash`); a replay with another body is a conflict. */
  readonly requestHash: string;
  readonly status: OrderStatus;
  readonly items: readonly OrderItem[];
  readonly totalCents: number;
  readonly currency: string;
  /** The payment provider's id once the payment succeeded; `null` before or when it failed. */
  readonly paymentId: string | null;
  /** Why the payment failed (`declined` by the provider, or `unavailable`: no answer); `null` unless it failed. */
  readonly paymentFailure: PaymentFailureKind | null;
  /** Why the payment failed or why the order was cancelled; `null` otherwise. */
  readonly statusReason: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Set when the order was cancelled (soft delete); `null` while it is live. */
  readonly deletedAt: number | null;
}

/** One append-only audit entry: who changed what, when. */
export interface AuditEntry {
  /** Monotonic sequence number assigned by the store. */
  readonly seq: number;
  /** The tenant the change belongs to; `null` for system-wide admin actions (e.g. chaos switches). */
  readonly tenantId: string | null;
  readonly at: number;
  /** `tenant:<id>`, `admin`, `system`, `consumer:<name>`, … */
  readonly actor: string;
  /** `order.created`, `order.cancelled`, `flag.override`, `chaos.set`, … */
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** What a caller appends with {@link Repository.appendAudit}. */
export interface NewAuditEntry {
  readonly tenantId: string | null;
  readonly actor: string;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Types of the events an order publishes through the outbox. */
export type OrderEventType = 'order.created' | 'order.confirmed' | 'order.payment_failed' | 'order.cancelled';

/** A row of the outbox, as the relay claims it. `payload` is kept as stored text so a poison row can be seen. */
export interface OutboxRecord {
  /** The event id (UUID); consumers deduplicate on it. */
  readonly id: string;
  readonly tenantId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly type: string;
  /** JSON text of the event payload. */
  readonly payload: string;
  readonly createdAt: number;
  /** Failed publish attempts so far. */
  readonly attempts: number;
  readonly lastError: string | null;
}

/** Outbox gauges for metrics and the delivery-freshness SLO. */
export interface OutboxStats {
  /** Unpublished, not dead-lettered events. */
  readonly depth: number;
  /** Age in ms of the oldest unpublished event (0 when the outbox is empty). */
  readonly lagMs: number;
  /** `createdAt` of the oldest unpublished event, or `null`. */
  readonly oldestCreatedAt: number | null;
  /** Events moved to the outbox dead-letter state. */
  readonly deadLettered: number;
}

/** A page request: at most `limit` items after the opaque `cursor` of the previous page. */
export interface PageRequest {
  /** @default 20 (1–100) */
  readonly limit?: number;
  /** `nextCursor` of the previous page; omit for the first page. */
  readonly cursor?: string;
}

/** A page of results; `nextCursor` is `null` on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** A line of a checkout request. */
export interface OrderLineInput {
  readonly productId: string;
  readonly quantity: number;
}

/** Input of {@link Repository.createOrder}. */
export interface CreateOrderInput {
  readonly tenantId: string;
  readonly idempotencyKey: string;
  /** `requestHash(body)` of the request body. */
  readonly requestHash: string;
  readonly items: readonly OrderLineInput[];
  /** Who asked, for the audit log. @default `tenant:<tenantId>` */
  readonly actor?: string;
}

/**
 * Outcome of {@link Repository.createOrder}:
 * - `created`: a new order, inventory reserved, `order.created` in the outbox, audit written;
 * - `replayed`: the key was used before with the same request hash: the existing order (HTTP: same response);
 * - `key_conflict`: the key was used before with another body (HTTP 422);
 * - `unknown_product` / `insufficient_stock`: nothing was written.
 */
export type CreateOrderResult =
  | { readonly outcome: 'created'; readonly order: Order }
  | { readonly outcome: 'replayed'; readonly order: Order }
  | { readonly outcome: 'key_conflict'; readonly order: Order }
  | { readonly outcome: 'unknown_product'; readonly productId: string }
  | {
      readonly outcome: 'insufficient_stock';
      readonly productId: string;
      readonly requested: number;
      readonly available: number;
    };

/**
 * What the payment provider answered, for {@link Repository.recordPayment}: the payment id, or why it failed
 * (`declined`: refused, nothing charged; `unavailable`: the outcome is unknown, so the saga voids the charge).
 */
export type PaymentOutcome = ChargeOutcome;

/**
 * Outcome of {@link Repository.recordPayment}: `updated` when a `pending` order moved to `confirmed` or
 * `payment_failed` (with its events and audit entry; then `cancelled` too if a cancellation was requested
 * meanwhile), `unchanged` when it was no longer pending, `not_found`. `saga` is where its checkout saga stands.
 */
export type RecordPaymentResult =
  | { readonly outcome: 'updated' | 'unchanged'; readonly order: Order; readonly saga: SagaStep }
  | { readonly outcome: 'not_found' };

/**
 * Outcome of {@link Repository.cancelOrder}: `cancelled` (soft delete + `order.cancelled` event + audit, inventory
 * released; a paid order's saga moves to `refunding`), `cancel_requested` (still `pending`: its charge may be in
 * flight; the request is recorded and the saga cancels the order once the charge settles, refunding a charge that
 * succeeded), `already_cancelled` (idempotent repeat, nothing written), `not_cancellable` (already fulfilled),
 * `not_found` (no such order for this tenant).
 */
export type CancelOrderResult =
  | {
      readonly outcome: 'cancelled' | 'cancel_requested' | 'already_cancelled' | 'not_cancellable';
      readonly order: Order;
      readonly saga: SagaStep;
    }
  | { readonly outcome: 'not_found' };

/** A checkout saga that has not completed (the `checkout_sagas` projection), for the recovery step. */
export interface OpenSaga {
  readonly order: Order;
  readonly step: Exclude<SagaStep, 'completed'>;
  readonly cancelRequested: boolean;
  /** When its last event was written (epoch ms). */
  readonly updatedAt: number;
}

/** Outcome of {@link Repository.recordCompensation}: `recorded` (`order.refunded` appended), `unchanged`, `not_found`. */
export type RecordCompensationResult =
  { readonly outcome: 'recorded' | 'unchanged'; readonly order: Order } | { readonly outcome: 'not_found' };

/** What {@link Repository.rebuildOrderProjections} did. */
export interface RebuildReport {
  /** Orders whose projection rows were rebuilt from their events. */
  readonly orders: number;
  /** Events replayed. */
  readonly events: number;
  /** Open checkout sagas after the rebuild. */
  readonly openSagas: number;
  /** Stock reservations held after the rebuild. */
  readonly reservations: number;
  /** Projection rows that differed from the rebuilt ones (0 when the live projections were right). */
  readonly drift: number;
  /** True when the rebuild was rolled back (`dryRun`): only the report is real. */
  readonly dryRun: boolean;
}

/** A stock reservation held by a `pending` or `confirmed` order (the `stock_reservations` projection). */
export interface StockReservation {
  readonly tenantId: string;
  readonly orderId: string;
  readonly productId: string;
  readonly quantity: number;
}

/**
 * Outcome of {@link FulfilmentStore.fulfilOrder}: `fulfilled` (effect applied now), `duplicate` (this event id
 * was processed before: nothing done), `skipped` (order missing or not `confirmed`; the event is still recorded as
 * processed).
 */
export type FulfilmentOutcome = 'fulfilled' | 'duplicate' | 'skipped';

/** A per-tenant (or global, `tenantId: null`) override of a feature flag. */
export interface FlagOverride {
  readonly tenantId: string | null;
  readonly flag: string;
  readonly enabled: boolean;
  readonly updatedAt: number;
}

/**
 * The relay's leadership lease as it reaches the outbox: the lock's key and the fencing token the holder got. A
 * store given a fence refuses the call with `StaleTokenError` (from `@ballast/resilience`) unless the lease row
 * `key` still carries `token`, checked in the same transaction as the write.
 */
export interface RelayFence {
  readonly key: string;
  readonly token: number;
}

/** The relay's view of the outbox. */
export interface OutboxStore {
  /**
   * Claims up to `limit` due events (unpublished, not dead-lettered, `nextAttemptAt <= now`, no live lease) in
   * creation order and leases them for `leaseMs`, so a second relay skips them (`FOR UPDATE SKIP LOCKED` on
   * PostgreSQL). A relay that dies loses its lease and the events are claimed again (at-least-once).
   */
  claimOutbox(options: {
    readonly limit: number;
    readonly leaseMs: number;
    /** Claim only while this lease is current and unexpired; the claimed rows record its token. */
    readonly fence?: RelayFence;
  }): Promise<OutboxRecord[]>;
  /** Marks events published (after the broker confirmed them); with `fence`, only while that lease is current. */
  markPublished(ids: readonly string[], fence?: RelayFence): Promise<void>;
  /**
   * The relays' leadership leases (table `relay_leases`, next to the outbox, so tokens follow the data through a
   * replica promotion). Give it to a `LeaseLock` and pass the lease to the relay as its fence.
   */
  readonly relayLeases: LeaseStore;
  /** Records a failed attempt: `attempts + 1`, `lastError`, next try not before `nextAttemptAt`; drops the lease. */
  markFailed(id: string, error: string, nextAttemptAt: number): Promise<void>;
  /** Moves an event to the outbox dead-letter state (never claimed again until {@link requeueDeadLettered}). */
  markDeadLettered(id: string, error: string): Promise<void>;
  /** Drops the leases on `ids` without counting an attempt (graceful stop, broker unavailable). */
  releaseClaims(ids: readonly string[]): Promise<void>;
  /** Depth, lag and dead-letter count of the outbox. */
  outboxStats(): Promise<OutboxStats>;
  /** Dead-lettered outbox events, oldest first. */
  listDeadLettered(limit?: number): Promise<OutboxRecord[]>;
  /** Puts a dead-lettered event back in line with its attempts reset; false when there is no such event. */
  requeueDeadLettered(id: string): Promise<boolean>;
  /** Deletes events published before `publishedBefore` (epoch ms); resolves with how many were deleted. */
  pruneOutbox(publishedBefore: number): Promise<number>;
}

/** The fulfilment consumer's view: effects applied together with the processed-event record. */
export interface FulfilmentStore {
  /**
   * In one transaction: records `(consumer, eventId)` as processed and, if the order is `confirmed`, marks it
   * `fulfilled` and writes its shipment and audit entry. A second call with the same `(consumer, eventId)`
   * changes nothing and returns `duplicate`.
   */
  fulfilOrder(input: {
    readonly consumer: string;
    readonly eventId: string;
    readonly tenantId: string;
    readonly orderId: string;
  }): Promise<FulfilmentOutcome>;
  /** Shipments written (the count of applied effects); all tenants when `tenantId` is omitted. */
  countShipments(tenantId?: string): Promise<number>;
  /** True when `consumer` already processed `eventId`. */
  isProcessed(consumer: string, eventId: string): Promise<boolean>;
}

/** Tenants and their API key hashes (table `tenants`). */
export interface TenantStore {
  /** The tenant whose API key hashes to `apiKeyHash`, or `undefined`. */
  findTenantByApiKeyHash(apiKeyHash: string): Promise<Tenant | undefined>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  /** Inserts or updates a tenant (name, plan, key hash). */
  upsertTenant(tenant: {
    readonly id: string;
    readonly name: string;
    readonly plan: Plan;
    readonly apiKeyHash: string;
  }): Promise<Tenant>;
}

/** Products and their stock on the shelf (table `products`). */
export interface CatalogStore {
  getProduct(tenantId: string, productId: string): Promise<Product | undefined>;
  /** Products of the tenant ordered by id. Throws an `InvalidCursorError` on a cursor it did not issue. */
  listProducts(tenantId: string, page?: PageRequest): Promise<Page<Product>>;
  /** Inserts a product if missing (existing rows, and their stock, are left alone); returns the stored row. */
  ensureProduct(product: Omit<Product, 'updatedAt'>): Promise<Product>;
  /** Sets a product's stock (admin/seeding); returns `undefined` when there is no such product. */
  setStock(tenantId: string, productId: string, stock: number): Promise<Product | undefined>;
}

/**
 * Orders: each one a stream of events (`order_events`, see `orders/events.ts`) with its read models (order list,
 * items, stock reservations, open checkout sagas) as projections written in the same transaction.
 */
export interface OrderStore {
  /** Creates an order, reserves inventory, writes `order.created` and an audit entry, in one transaction. */
  createOrder(input: CreateOrderInput): Promise<CreateOrderResult>;
  /** The order with this id for this tenant, including cancelled (soft-deleted) ones. */
  getOrder(tenantId: string, orderId: string): Promise<Order | undefined>;
  findOrderByIdempotencyKey(tenantId: string, idempotencyKey: string): Promise<Order | undefined>;
  /** The tenant's orders, newest first; cancelled ones only with `includeCancelled`. */
  listOrders(
    tenantId: string,
    page?: PageRequest & { readonly includeCancelled?: boolean },
  ): Promise<Page<Order>>;
  /** Settles a `pending` order's payment: status, event (`order.confirmed`/`order.payment_failed`), audit. */
  recordPayment(input: {
    readonly tenantId: string;
    readonly orderId: string;
    readonly payment: PaymentOutcome;
    readonly actor?: string;
  }): Promise<RecordPaymentResult>;
  /** Cancels (soft-deletes) an order with its event and audit entry in one transaction. */
  cancelOrder(input: {
    readonly tenantId: string;
    readonly orderId: string;
    readonly actor?: string;
    readonly reason?: string;
  }): Promise<CancelOrderResult>;
  /** Records that a saga's compensation ran (the charge under the order's key was refunded or voided). */
  recordCompensation(input: {
    readonly tenantId: string;
    readonly orderId: string;
    readonly chargeId: string | null;
  }): Promise<RecordCompensationResult>;
  /** The order's events, oldest first (empty for an unknown order). */
  orderEvents(tenantId: string, orderId: string): Promise<OrderEvent[]>;
  /** Checkout sagas not completed whose last event is older than `updatedBefore` (all tenants), oldest first. */
  listOpenSagas(options: { readonly updatedBefore: number; readonly limit?: number }): Promise<OpenSaga[]>;
  /** Stock reservations held by the tenant's orders (one row per order and product). */
  listReservations(tenantId: string): Promise<StockReservation[]>;
  /**
   * Rebuilds the order projections (`orders`, `order_items`, `stock_reservations`, `checkout_sagas`) from the
   * events, in one transaction. Orders written before events existed (no stream) are left as they are. With
   * `dryRun`, the transaction is rolled back: the report (its `drift` above all) checks the live projections.
   */
  rebuildOrderProjections(options?: { readonly dryRun?: boolean }): Promise<RebuildReport>;
}

/** The append-only audit log (`audit_log`), numbered per tenant. */
export interface AuditStore {
  /** Appends an audit entry (admin actions; order changes write their own). */
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** The tenant's audit log, newest first; with `includeSystem`, system-wide entries are included. */
  listAudit(
    tenantId: string,
    page?: PageRequest & { readonly includeSystem?: boolean },
  ): Promise<Page<AuditEntry>>;
}

/** Feature-flag overrides per tenant or global (`flag_overrides`). */
export interface FlagStore {
  /** Sets (`enabled` boolean) or clears (`null`) an override; audited. `tenantId: null` is global. */
  setFlagOverride(input: {
    readonly tenantId: string | null;
    readonly flag: string;
    readonly enabled: boolean | null;
    readonly actor: string;
  }): Promise<void>;
  /** Overrides that apply to the tenant, by flag: its own first (they win), then the global ones. */
  listFlagOverrides(tenantId: string): Promise<FlagOverride[]>;
}

/**
 * The storage interface of RetailFlow. Create one with `openRepository`, `createSqliteRepository` or
 * `createPostgresRepository`; migrations are applied when it opens.
 *
 * @example
 * ```ts
 * import { openRepository, seedDemoData, requestHash } from './data/index.js';
 * const repo = await openRepository({ sqlite: ':memory:' });
 * await seedDemoData(repo, { apiKeys: { acme: 'acme-key', globex: 'globex-key' } });
 * const body = { items: [{ productId: 'sku-espresso', quantity: 1 }] };
 * const result = await repo.createOrder({ tenantId: 'acme', idempotencyKey: 'k1', requestHash: requestHash(body), items: body.items });
 * ```
 */
export interface Repository
  extends TenantStore, CatalogStore, OrderStore, AuditStore, FlagStore, OutboxStore, FulfilmentStore {
  /** Which adapter this is. */
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Resolves when the store answers a trivial query and (PostgreSQL) is a primary that accepts writes; rejects
   * otherwise (for `/readyz`), so a load balancer never sends traffic to an instance whose database is a standby.
   */
  health(): Promise<void>;
  /** Closes connections; the repository is unusable afterwards. */
  close(): Promise<void>;
}
