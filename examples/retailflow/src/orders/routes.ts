import { Router, type RequestHandler } from 'express';
import { auditActor } from '../identity/authenticate.js';
import type { Repository } from '../data/index.js';
import { deadlineOf, tenantOf } from '../http/context.js';
import { HttpProblem, sendProblem } from '../http/problem.js';
import { presentOrder } from '../http/present.js';
import { invalidRequest, jsonBody, pageQuery, pathParam } from '../http/validation.js';
import type { OpenApiSchemas } from '../openapi.js';
import { noteCheckoutFailure } from '../wiring/checkout-failures.js';
import { type CheckoutBody, type Checkout, checkoutStatus } from './checkout.js';

const notFound = (id: string) => new HttpProblem(404, 'not-found', 'Not found', `No order ${id}`);

/**
 * Orders of the authenticated tenant. Every read is scoped by tenant in the store, so another tenant's order is a
 * plain 404: the API never says that an id exists elsewhere.
 */
export function orderRoutes(
  repo: Repository,
  checkout: Checkout,
  schemas: OpenApiSchemas,
  front: readonly RequestHandler[],
): Router {
  const router = Router({ caseSensitive: true });

  router.post('/orders', ...front, jsonBody(schemas, 'CreateOrderRequest'), async (req, res) => {
    const tenant = tenantOf(req);
    const key = req.get('idempotency-key');
    if (key === undefined || key.length === 0 || key.length > 255) {
      throw invalidRequest('Send an `Idempotency-Key` header (1-255 characters), unique per checkout', [
        { path: 'header/idempotency-key', message: 'is required (1-255 characters)' },
      ]);
    }
    const body = req.body as CheckoutBody;
    // One line per product: repeated lines would add up past the per-line quantity limit.
    const seen = new Set<string>();
    const repeated = body.items.flatMap((item, i) => {
      if (!seen.has(item.productId)) {
        seen.add(item.productId);
        return [];
      }
      return [{ path: `body/items/${i}/productId`, message: 'repeats a product of an earlier line' }];
    });
    if (repeated.length > 0) {
      throw invalidRequest('Each product may appear on one line only (set its quantity instead)', repeated);
    }
    const result = await checkout.place(tenant, key, body, deadlineOf(req), auditActor(req));
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const { status, problem } = checkoutStatus(result.order);
    if (problem) {
      // The order's own reason (a breaker state, a timeout) goes to the failed-checkout log line, not the client.
      noteCheckoutFailure(res, result.order.statusReason ?? result.order.status);
      sendProblem(res, problem, req.originalUrl);
      return;
    }
    res.status(status).location(`/api/v1/orders/${result.order.id}`).json(presentOrder(result.order));
  });

  router.get('/orders', ...front, async (req, res) => {
    const tenant = tenantOf(req);
    const includeCancelled = req.query.includeCancelled;
    if (includeCancelled !== undefined && includeCancelled !== 'true' && includeCancelled !== 'false') {
      throw invalidRequest('`includeCancelled` must be `true` or `false`', [
        { path: 'query/includeCancelled', message: 'must be true or false' },
      ]);
    }
    const page = await repo.listOrders(tenant.id, {
      ...pageQuery(req),
      includeCancelled: includeCancelled === 'true',
    });
    res.json({ items: page.items.map(presentOrder), nextCursor: page.nextCursor });
  });

  router.get('/orders/:orderId', ...front, async (req, res) => {
    const order = await repo.getOrder(tenantOf(req).id, pathParam(req, 'orderId'));
    if (!order) throw notFound(pathParam(req, 'orderId'));
    res.json(presentOrder(order));
  });

  router.delete('/orders/:orderId', ...front, async (req, res) => {
    const tenant = tenantOf(req);
    const actor = auditActor(req);
    const result = await repo.cancelOrder({
      tenantId: tenant.id,
      orderId: pathParam(req, 'orderId'),
      ...(actor === undefined ? {} : { actor }),
    });
    if (result.outcome === 'not_found') throw notFound(pathParam(req, 'orderId'));
    if (result.outcome === 'payment_in_progress') {
      throw new HttpProblem(
        409,
        'payment-in-progress',
        'Payment in progress',
        'The order is being paid for; cancel it once the payment has settled',
        { headers: { 'Retry-After': '1' } },
      );
    }
    if (result.outcome === 'not_cancellable') {
      throw new HttpProblem(
        409,
        'not-cancellable',
        'Order cannot be cancelled',
        `Order is ${result.order.status}`,
      );
    }
    res.json(presentOrder(result.order));
  });

  return router;
}
