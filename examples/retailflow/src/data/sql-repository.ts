import type { LeaseStore } from '@ballast/resilience';
import { SqlAuditStore } from './audit-store.js';
import { SqlCatalogStore } from './catalog-store.js';
import { SqlFlagStore } from './flag-store.js';
import { SqlFulfilmentStore } from './fulfilment-store.js';
import { SqlOrderStore } from './order-store.js';
import { SqlOutboxStore } from './outbox-store.js';
import type { Repository } from './repository.js';
import { SqlContext, type RepositoryOptions } from './sql-context.js';
import type { SqlDriver } from './sql-driver.js';
import { SqlTenantStore } from './tenant-store.js';

export type { RepositoryOptions } from './sql-context.js';

/**
 * The one implementation of {@link Repository}, written against {@link SqlDriver}; the SQLite and PostgreSQL
 * adapters differ only in their driver. It composes one store per part of the schema (tenants, catalog, orders,
 * audit, flags, outbox, fulfilment: one file each) over a shared {@link SqlContext}, and answers the whole
 * interface by handing each call to its store. Use `createSqliteRepository` or `createPostgresRepository`.
 *
 * @example
 * ```ts
 * import { createSqliteRepository } from './data/index.js';
 * const repo: SqlRepository = await createSqliteRepository({ path: 'retailflow.db' });
 * ```
 */
export class SqlRepository implements Repository {
  readonly kind: 'sqlite' | 'postgres';
  readonly tenants: SqlTenantStore;
  readonly catalog: SqlCatalogStore;
  readonly orders: SqlOrderStore;
  readonly audit: SqlAuditStore;
  readonly flags: SqlFlagStore;
  readonly outbox: SqlOutboxStore;
  readonly fulfilment: SqlFulfilmentStore;
  readonly #ctx: SqlContext;

  constructor(driver: SqlDriver, options: RepositoryOptions = {}) {
    this.#ctx = new SqlContext(driver, options);
    this.kind = this.#ctx.kind;
    this.tenants = new SqlTenantStore(this.#ctx);
    this.catalog = new SqlCatalogStore(this.#ctx);
    this.orders = new SqlOrderStore(this.#ctx);
    this.audit = new SqlAuditStore(this.#ctx);
    this.flags = new SqlFlagStore(this.#ctx);
    this.outbox = new SqlOutboxStore(this.#ctx);
    this.fulfilment = new SqlFulfilmentStore(this.#ctx, this.orders);
  }

  /** The connection layer, for stores that keep their own tables in this database (API keys). */
  get driver(): SqlDriver {
    return this.#ctx.driver;
  }

  // ---- tenants ----
  findTenantByApiKeyHash: Repository['findTenantByApiKeyHash'] = (h) =>
    this.tenants.findTenantByApiKeyHash(h);
  getTenant: Repository['getTenant'] = (id) => this.tenants.getTenant(id);
  listTenants: Repository['listTenants'] = () => this.tenants.listTenants();
  upsertTenant: Repository['upsertTenant'] = (tenant) => this.tenants.upsertTenant(tenant);

  // ---- catalog ----
  getProduct: Repository['getProduct'] = (t, id) => this.catalog.getProduct(t, id);
  listProducts: Repository['listProducts'] = (t, page) => this.catalog.listProducts(t, page);
  ensureProduct: Repository['ensureProduct'] = (product) => this.catalog.ensureProduct(product);
  setStock: Repository['setStock'] = (t, id, stock) => this.catalog.setStock(t, id, stock);

  // ---- orders ----
  createOrder: Repository['createOrder'] = (input) => this.orders.createOrder(input);
  getOrder: Repository['getOrder'] = (t, id) => this.orders.getOrder(t, id);
  findOrderByIdempotencyKey: Repository['findOrderByIdempotencyKey'] = (t, key) =>
    this.orders.findOrderByIdempotencyKey(t, key);
  listOrders: Repository['listOrders'] = (t, page) => this.orders.listOrders(t, page);
  recordPayment: Repository['recordPayment'] = (input) => this.orders.recordPayment(input);
  cancelOrder: Repository['cancelOrder'] = (input) => this.orders.cancelOrder(input);
  recordCompensation: Repository['recordCompensation'] = (input) => this.orders.recordCompensation(input);
  orderEvents: Repository['orderEvents'] = (t, id) => this.orders.orderEvents(t, id);
  listOpenSagas: Repository['listOpenSagas'] = (options) => this.orders.listOpenSagas(options);
  listReservations: Repository['listReservations'] = (t) => this.orders.listReservations(t);
  rebuildOrderProjections: Repository['rebuildOrderProjections'] = (options) =>
    this.orders.rebuildOrderProjections(options);

  // ---- audit ----
  appendAudit: Repository['appendAudit'] = (entry) => this.audit.appendAudit(entry);
  listAudit: Repository['listAudit'] = (t, page) => this.audit.listAudit(t, page);

  // ---- flags ----
  setFlagOverride: Repository['setFlagOverride'] = (input) => this.flags.setFlagOverride(input);
  listFlagOverrides: Repository['listFlagOverrides'] = (t) => this.flags.listFlagOverrides(t);

  // ---- outbox ----
  claimOutbox: Repository['claimOutbox'] = (options) => this.outbox.claimOutbox(options);
  markPublished: Repository['markPublished'] = (ids, fence) => this.outbox.markPublished(ids, fence);
  markFailed: Repository['markFailed'] = (id, error, next) => this.outbox.markFailed(id, error, next);
  markDeadLettered: Repository['markDeadLettered'] = (id, error) => this.outbox.markDeadLettered(id, error);
  releaseClaims: Repository['releaseClaims'] = (ids) => this.outbox.releaseClaims(ids);
  outboxStats: Repository['outboxStats'] = () => this.outbox.outboxStats();
  listDeadLettered: Repository['listDeadLettered'] = (limit) => this.outbox.listDeadLettered(limit);
  requeueDeadLettered: Repository['requeueDeadLettered'] = (id) => this.outbox.requeueDeadLettered(id);
  pruneOutbox: Repository['pruneOutbox'] = (before) => this.outbox.pruneOutbox(before);
  get relayLeases(): LeaseStore {
    return this.outbox.relayLeases;
  }

  // ---- fulfilment ----
  fulfilOrder: Repository['fulfilOrder'] = (input) => this.fulfilment.fulfilOrder(input);
  countShipments: Repository['countShipments'] = (t) => this.fulfilment.countShipments(t);
  isProcessed: Repository['isProcessed'] = (consumer, id) => this.fulfilment.isProcessed(consumer, id);

  // ---- operations ----

  async health(): Promise<void> {
    if (this.kind === 'sqlite') {
      await this.driver.read((s) => s.all('SELECT 1 AS ok'));
      return;
    }
    // A standby answers queries but refuses writes: an instance pointed at one (a region whose database has not
    // been promoted, or an old primary that came back as a standby) must not be sent traffic.
    const [row] = await this.driver.read((s) => s.all('SELECT pg_is_in_recovery() AS standby'));
    if (row?.standby === true) {
      throw new Error('the database is a read-only standby (in recovery): not promoted, or fenced');
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
