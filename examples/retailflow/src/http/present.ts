import type { AuditEntry, Order, Product } from '../data/index.js';

/** Wire forms of RetailFlow's resources (the OpenAPI document's schemas): no tenant ids, ISO timestamps. */

const iso = (ms: number): string => new Date(ms).toISOString();

/** `Product` as the API shows it. */
export function presentProduct(p: Product) {
  return {
    id: p.id,
    name: p.name,
    priceCents: p.priceCents,
    currency: p.currency,
    stock: p.stock,
    updatedAt: iso(p.updatedAt),
  };
}

/** `Order` as the API shows it (idempotency key and request hash stay private). */
export function presentOrder(o: Order) {
  return {
    id: o.id,
    status: o.status,
    items: o.items.map((i) => ({
      productId: i.productId,
      name: i.name,
      quantity: i.quantity,
      unitPriceCents: i.unitPriceCents,
    })),
    totalCents: o.totalCents,
    currency: o.currency,
    paymentId: o.paymentId,
    statusReason: o.statusReason,
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
    cancelledAt: o.deletedAt === null ? null : iso(o.deletedAt),
  };
}

/** `AuditEntry` as the API shows it. */
export function presentAudit(a: AuditEntry) {
  return {
    seq: a.seq,
    at: iso(a.at),
    actor: a.actor,
    action: a.action,
    targetType: a.targetType,
    targetId: a.targetId,
    details: a.details,
  };
}
