import type { Order, OrderLineInput, Repository, Tenant } from '../data/index.js';
import { requestHash } from '../data/index.js';
import { HttpProblem } from '../http/problem.js';
import { isPaymentError, type PaymentGateway } from '../payments/client.js';
import type { ServicePolicies } from '../policies.js';
import { SingleFlight, type Deadline } from '@ballast/resilience';
import { checkNumber, systemClock, type Clock } from '@ballast/core';

/** A checkout request body (validated against `CreateOrderRequest` before it gets here). */
export interface CheckoutBody {
  readonly items: readonly OrderLineInput[];
}

/** What the HTTP layer answers for a checkout: the order and whether this was a replay of an earlier request. */
export interface CheckoutResult {
  readonly order: Order;
  readonly replayed: boolean;
}

/** Prefixes of `statusReason` on a `payment_failed` order: who is to blame decides the HTTP status. */
const DECLINED = 'declined: ';
const UNAVAILABLE = 'unavailable: ';

function describe(error: unknown): string {
  if (error instanceof Error)
    return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * The checkout use case: an idempotent order creation (inventory reserved behind the bulkhead, `order.created`
 * in the outbox, one transaction) followed by a payment through the payment policies, then the payment outcome
 * recorded (with its own outbox event). Concurrent duplicates in this process share one execution; across
 * processes the store's unique `(tenant, idempotency key)` makes them one order.
 *
 * An order left `pending` (the process died, or the store failed, between the reservation and the payment record)
 * is resumed by the next replay of its key once it is older than `resumeAfterMs`: the charge is sent again with
 * the same provider idempotency key (`<tenant>:<order id>`), so the provider answers the charge it already made
 * instead of charging twice, and the outcome is recorded. Two processes resuming at once are safe for the same
 * reason; the store records the first outcome and leaves the order unchanged for the second.
 */
export class Checkout {
  readonly #repo: Repository;
  readonly #policies: ServicePolicies;
  readonly #gateway: PaymentGateway;
  /** Concurrent duplicates (same tenant, key and body) in this process join the first one. */
  readonly #inFlight = new SingleFlight<CheckoutResult>({ name: 'checkout-dedupe' });
  readonly #clock: Clock;
  readonly #resumeAfterMs: number;

  /** @param options.resumeAfterMs - age after which a replay resumes a `pending` order. @default 10000 */
  constructor(
    repo: Repository,
    policies: ServicePolicies,
    gateway: PaymentGateway,
    options: { readonly clock?: Clock; readonly resumeAfterMs?: number } = {},
  ) {
    this.#repo = repo;
    this.#policies = policies;
    this.#gateway = gateway;
    this.#clock = options.clock ?? systemClock;
    this.#resumeAfterMs = checkNumber('resumeAfterMs', options.resumeAfterMs, 10_000, { min: 0 });
  }

  /** Checkouts currently running in this process. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Places the order, or answers the earlier outcome of the same key and body. Throws {@link HttpProblem}s.
   * `actor` is who the audit log names (e.g. `jwt:alice@retailflow-web`); unset means `tenant:<id>`.
   */
  place(
    tenant: Tenant,
    idempotencyKey: string,
    body: CheckoutBody,
    deadline: Deadline | undefined,
    actor?: string,
  ): Promise<CheckoutResult> {
    const hash = requestHash(body);
    const flight = `${tenant.id}\u0000${idempotencyKey}\u0000${hash}`;
    const joined = this.#inFlight.has(flight);
    const result = this.#inFlight.run(flight, () =>
      this.#policies.tenantCheckout(tenant.id, () =>
        this.#run(tenant, idempotencyKey, hash, body, deadline, actor),
      ),
    );
    return joined ? result.then((r) => ({ order: r.order, replayed: true })) : result;
  }

  async #run(
    tenant: Tenant,
    idempotencyKey: string,
    hash: string,
    body: CheckoutBody,
    deadline: Deadline | undefined,
    actor: string | undefined,
  ): Promise<CheckoutResult> {
    const created = await this.#policies.inventory(() =>
      this.#repo.createOrder({
        tenantId: tenant.id,
        idempotencyKey,
        requestHash: hash,
        items: body.items,
        ...(actor === undefined ? {} : { actor }),
      }),
    );
    switch (created.outcome) {
      case 'unknown_product':
        throw new HttpProblem(404, 'unknown-product', 'Unknown product', `No product ${created.productId}`, {
          extensions: { productId: created.productId },
        });
      case 'insufficient_stock':
        throw new HttpProblem(
          409,
          'insufficient-stock',
          'Insufficient stock',
          `${created.requested} of ${created.productId} requested, ${created.available} available`,
          {
            extensions: {
              productId: created.productId,
              requested: created.requested,
              available: created.available,
            },
          },
        );
      case 'key_conflict':
        throw new HttpProblem(
          422,
          'idempotency-key-reused',
          'Idempotency-Key reused',
          'This Idempotency-Key was already used with a different request body',
          { extensions: { orderId: created.order.id } },
        );
      case 'replayed': {
        const stale = this.#clock.now() - created.order.updatedAt >= this.#resumeAfterMs;
        if (created.order.status !== 'pending' || !stale) return { order: created.order, replayed: true };
        const settled = await this.#pay(tenant, created.order, deadline);
        return { order: settled, replayed: true };
      }
      case 'created':
        break;
    }
    return { order: await this.#pay(tenant, created.order, deadline), replayed: false };
  }

  /** Charges for `order` through the payment policies and records the outcome; returns the order as stored. */
  async #pay(tenant: Tenant, order: Order, deadline: Deadline | undefined): Promise<Order> {
    let outcome: { ok: true; paymentId: string } | { ok: false; reason: string };
    try {
      const charge = await this.#policies.payment(
        (call) =>
          this.#gateway.charge(
            {
              amountCents: order.totalCents,
              currency: order.currency,
              reference: order.id,
              idempotencyKey: `${tenant.id}:${order.id}`,
            },
            call,
          ),
        deadline,
      );
      outcome = { ok: true, paymentId: charge.id };
    } catch (error) {
      const declined = isPaymentError(error) && !error.retryable;
      outcome = { ok: false, reason: (declined ? DECLINED : UNAVAILABLE) + describe(error) };
    }
    // Settled even when the caller's deadline has passed: the order must not stay pending.
    const settled = await this.#repo.recordPayment({
      tenantId: tenant.id,
      orderId: order.id,
      payment: outcome,
    });
    return settled.outcome === 'not_found' ? order : settled.order;
  }
}

/**
 * The HTTP answer for an order a checkout produced: 201 for a placed order (paid, fulfilled or since cancelled),
 * 402 when the provider declined, 503 + `Retry-After` when it was unavailable (the client retries with a new key),
 * 409 + `Retry-After` while the first request with this key is still in flight (or not yet old enough to resume).
 */
export function checkoutStatus(order: Order): { status: number; problem?: HttpProblem } {
  if (order.status === 'pending') {
    return {
      status: 409,
      problem: new HttpProblem(
        409,
        'request-in-progress',
        'Request in progress',
        'The first request with this Idempotency-Key is still being processed',
        { headers: { 'Retry-After': '1' }, extensions: { orderId: order.id } },
      ),
    };
  }
  if (order.status !== 'payment_failed') return { status: 201 };
  const reason = order.statusReason ?? '';
  if (reason.startsWith(DECLINED)) {
    return {
      status: 402,
      problem: new HttpProblem(402, 'payment-declined', 'Payment declined', reason.slice(DECLINED.length), {
        extensions: { orderId: order.id },
      }),
    };
  }
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
        extensions: { orderId: order.id },
      },
    ),
  };
}
