export type {
  AuditEntry,
  AuditStore,
  CancelOrderResult,
  CatalogStore,
  FlagStore,
  OpenSaga,
  OrderStore,
  RebuildReport,
  RecordCompensationResult,
  StockReservation,
  TenantStore,
  CreateOrderInput,
  CreateOrderResult,
  FlagOverride,
  FulfilmentOutcome,
  FulfilmentStore,
  NewAuditEntry,
  Order,
  OrderEventType,
  OrderItem,
  OrderLineInput,
  OrderStatus,
  OutboxRecord,
  OutboxStats,
  OutboxStore,
  RelayFence,
  Page,
  PageRequest,
  PaymentOutcome,
  Plan,
  Product,
  RecordPaymentResult,
  Repository,
  Tenant,
} from './repository.js';
export { hashApiKey, requestHash } from './hash.js';
export { InvalidCursorError, isInvalidCursorError } from './errors.js';
export { OrderVersionConflictError, isOrderVersionConflictError } from './order-streams.js';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './cursor.js';
export type { Migration, SqlDialect } from './migrations.js';
export { migrations } from './migrations.js';
export { applyMigrations } from './migrate.js';
export type { SqlDriver, SqlRow, SqlSession } from './sql-driver.js';
export type { RepositoryOptions } from './sql-repository.js';
export { SqlRepository } from './sql-repository.js';
export type { SqliteRepositoryOptions } from './sqlite.js';
export { createSqliteRepository } from './sqlite.js';
export type { PostgresRepositoryOptions } from './postgres.js';
export { PostgresRepository, createPostgresRepository } from './postgres.js';
export type { OpenRepositoryOptions } from './open.js';
export { openRepository } from './open.js';
export type { SeedOptions } from './seed.js';
export { demoCatalog, demoTenants, seedDemoData } from './seed.js';
