import { invalidOption } from '@ballast/core';
import type { PaymentFailureKind } from '../orders/events.js';
import type {
  AuditEntry,
  Order,
  OrderItem,
  OrderStatus,
  OutboxRecord,
  Plan,
  Product,
  Tenant,
} from './repository.js';
import type { SqlRow } from './sql-driver.js';

// Rows as the drivers return them ↔ RetailFlow's types (one schema serves both dialects: numbers may arrive as
// strings from PostgreSQL's BIGINT), and the checks every store applies to ids.

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const strOrNull = (v: unknown): string | null =>
  typeof v === 'string' ? v : v == null ? null : JSON.stringify(v);
export const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

export function toTenant(r: SqlRow): Tenant {
  return {
    id: String(r.id),
    name: String(r.name),
    plan: r.plan as Plan,
    apiKeyHash: String(r.api_key_hash),
    createdAt: num(r.created_at),
  };
}

/**
 * The columns {@link toProduct} reads, for statements that name them rather than select `*` (a statement with a `*`
 * result is not prepared: see `StatementNames`).
 */
export const PRODUCT_COLUMNS = 'tenant_id, id, name, price_cents, currency, stock, updated_at';

export function toProduct(r: SqlRow): Product {
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

export function toItem(r: SqlRow): OrderItem {
  return {
    productId: String(r.product_id),
    name: String(r.name),
    quantity: num(r.quantity),
    unitPriceCents: num(r.unit_price_cents),
  };
}

export function toOrder(r: SqlRow, items: readonly OrderItem[]): Order {
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

export function toAudit(r: SqlRow): AuditEntry {
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

export function toOutbox(r: SqlRow): OutboxRecord {
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

export function checkId(name: string, value: unknown, max = 200): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalidOption(name, `a non-empty string of at most ${max} characters`, value);
  }
  return value;
}
