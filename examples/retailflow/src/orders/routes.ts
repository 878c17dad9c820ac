import { Router, type RequestHandler } from 'express';
import { auditActor } from '../identity/authenticate.js';
import type { Repository } from '../data/index.js';
import { deadlineOf, tenantOf } from '../http/context.js';
import { HttpProblem, sendProblem } from '../http/problem.js';
import { presentOrder } from '../http/present.js';
import { invalidRequest, jsonBody, pageQuery, pathParam } from '../http/validation.js';
import type { OpenApiSchemas } from '../openapi.js';
import { noteCheckoutFailure } from '../wiring/checkout-failures.js';
import { cancelOrder, type CheckoutBody, type Checkout, type CheckoutOutcome } from './checkout.js';
import type { CheckoutSaga } from './saga.js';

const notFound = (id: string) => new HttpProblem(404, 'not-found', 'Not found', `No order ${id}`);

/**
 * The HTTP answer for a checkout outcome: 201 for a placed order (paid, fulfilled or since cancelled), 402 when the
 * provider declined, 503 + `Retry-After` when it was unavailable (the client retries with a new key), 409 +
 * `Retry-After` while the first request with this key is still in flight (or not yet old enough to resume), 409 when
 * the order was cancelled while this request paid for it, 404 /
 * 409 / 422 for an unknown product, too little stock, a reused key.
 */
export function checkoutAnswer(
  outcome: CheckoutOutcome,
): { status: 201 } | { status: number; problem: HttpProblem } {
  switch (outcome.kind) {
    case 'placed':
      return { status: 201 };
    case 'in_progress':
      return {
        status: 409,
        problem: new HttpProblem(
          409,
          'request-in-progress',
          'Request in progress',
          'The first request with this Idempotency-Key is still being processed',
          { headers: { 'Retry-After': '1' }, extensions: { orderId: outcome.order.id } },
        ),
      };
    case 'cancelled':
      return {
        status: 409,
        problem: new HttpProblem(
          409,
          'order-cancelled',
          'Order cancelled',
          'The order was cancelled while its payment was in flight; a charge that went through is refunded',
          { extensions: { orderId: outcome.order.id } },
        ),
      };
    case 'payment_declined':
      return {
        status: 402,
        problem: new HttpProblem(
          402,
          'payment-declined',
          'Payment declined',
          'The payment provider declined the charge',
          {
            extensions: { orderId: outcome.order.id },
          },
        ),
      };
    case 'payment_unavailable':
      return {
        status: 503,
        problem: new HttpProblem(
          503,
          'payment-unavailable',
          'Payment provider unavailable',
          'The payment could not be taken; the order was not placed. Retry with a new Idempotency-Key.',
          {
            headers: { 'Retry-After': '5' },
            // The internal reason (timeouts, breaker states) stays in the order's statusReason for operators.
            extensions: { orderId: outcome.order.id },
          },
        ),
      };
    case 'unknown_product':
      return {
        status: 404,
        problem: new HttpProblem(
          404,
          'unknown-product',
          'Unknown product',
          `No product ${outcome.productId}`,
          {
            extensions: { productId: outcome.productId },
          },
        ),
      };
    case 'insufficient_stock':
      return {
        status: 409,
        problem: new HttpProblem(
          409,
          'insufficient-stock',
          'Insufficient stock',
          `${outcome.requested} of ${outcome.productId} requested, ${outcome.available} available`,
          {
            extensions: {
              productId: outcome.productId,
              requested: outcome.requested,
              available: outcome.available,
            },
          },
        ),
      };
    case 'key_conflict':
      return {
        status: 422,
        problem: new HttpProblem(
          422,
          'idempotency-key-reused',
          'Idempotency-Key reused',
          'This Idempotency-Key was already used with a different request body',
          { extensions: { orderId: outcome.orderId } },
        ),
      };
  }
}

/**
 * Orders of the authenticated tenant. Every read is scoped by tenant in the store, so another tenant's order is a
 * plain 404: the API never says that an id exists elsewhere.
 */
export function orderRoutes(
  repo: Repository,
  checkout: Checkout,
  saga: CheckoutSaga,
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
    const outcome = await checkout.place(tenant, key, body, deadlineOf(req), auditActor(req));
    if ('replayed' in outcome && outcome.replayed) res.setHeader('Idempotent-Replayed', 'true');
    const answer = checkoutAnswer(outcome);
    if ('problem' in answer) {
      // The order's own reason (a breaker state, a timeout) goes to the failed-checkout log line, not the client.
      if ('order' in outcome) noteCheckoutFailure(res, outcome.order.statusReason ?? outcome.kind);
      else noteCheckoutFailure(res, outcome.kind);
      sendProblem(res, answer.problem, req.originalUrl);
      return;
    }
    if (outcome.kind !== 'placed') throw new Error(`checkout outcome ${outcome.kind} answered 201`);
    res.status(201).location(`/api/v1/orders/${outcome.order.id}`).json(presentOrder(outcome.order));
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
    const result = await cancelOrder(repo, saga, {
      tenantId: tenant.id,
      orderId: pathParam(req, 'orderId'),
      ...(actor === undefined ? {} : { actor }),
    });
    switch (result.kind) {
      case 'not_found':
        throw notFound(pathParam(req, 'orderId'));
      case 'not_cancellable':
        throw new HttpProblem(
          409,
          'not-cancellable',
          'Order cannot be cancelled',
          `Order is ${result.order.status}`,
        );
      case 'cancel_requested':
        // Its charge is in flight: the saga cancels the order once the charge settles.
        res.status(202).json(presentOrder(result.order));
        return;
      case 'cancelled':
      case 'already_cancelled':
        res.json(presentOrder(result.order));
    }
  });

  return router;
}
