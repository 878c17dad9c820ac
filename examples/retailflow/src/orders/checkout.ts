import type { Order, OrderLineInput, Repository, Tenant } from '../data/index.js';
import { requestHash } from '../data/index.js';
import type { ServicePolicies } from '../policies.js';
import { SingleFlight, type Deadline } from '@ballast/resilience';
import { checkNumber, systemClock, type Clock } from '@ballast/core';
import type { CheckoutSaga } from './saga.js';

/** A checkout request body (validated against `CreateOrderRequest` before it gets here). */
export interface CheckoutBody {
  readonly items: readonly OrderLineInput[];
}

/**
 * What a checkout ended in. The use case never speaks HTTP: the routes map each outcome to a status.
 * - `placed`: the order was paid (it may since have been fulfilled, or cancelled and refunded);
 * - `payment_declined`: the provider refused the charge; the stock was released;
 * - `payment_unavailable`: the charge got no answer (outage, timeouts, open breaker); the stock was released and
 *   the saga voids whatever may have been charged; the client retries with a new key;
 * - `in_progress`: the first request with this key is still being processed (or not old enough to resume);
 * - `cancelled`: the tenant cancelled the order while this checkout's charge was in flight; the saga carried the
 *   cancellation out once the charge settled (a charge that succeeded is refunded);
 * - `unknown_product`, `insufficient_stock`: nothing was written;
 * - `key_conflict`: the key was used before with another body.
 *
 * `replayed` is true when the answer is an earlier request's (same key and body).
 */
export type CheckoutOutcome =
  | {
      readonly kind: 'placed' | 'payment_declined' | 'payment_unavailable' | 'in_progress' | 'cancelled';
      readonly order: Order;
      readonly replayed: boolean;
    }
  | { readonly kind: 'unknown_product'; readonly productId: string }
  | {
      readonly kind: 'insufficient_stock';
      readonly productId: string;
      readonly requested: number;
      readonly available: number;
    }
  | { readonly kind: 'key_conflict'; readonly orderId: string };

/** The outcome an order stands for, once its checkout ran (or while it still runs). */
export function settledOutcome(order: Order, replayed: boolean): CheckoutOutcome {
  if (order.status === 'pending') return { kind: 'in_progress', order, replayed };
  // Read from the typed failure, never from the reason text: a cancelled order whose charge failed stays failed.
  if (order.paymentFailure === 'declined') return { kind: 'payment_declined', order, replayed };
  if (order.paymentFailure === 'unavailable') return { kind: 'payment_unavailable', order, replayed };
  return { kind: 'placed', order, replayed };
}

/** The policies a checkout runs under: the inventory bulkhead and the tenant's share of it. */
export type CheckoutPolicies = Pick<ServicePolicies, 'inventory' | 'tenantCheckout'>;

/**
 * The checkout use case: an idempotent order creation (inventory reserved behind the bulkhead, `order.created`
 * in its stream and the outbox, one transaction), then the charge through the checkout saga, which records the
 * outcome with its own event. Concurrent duplicates in this process share one execution; across processes the
 * store's unique `(tenant, idempotency key)` makes them one order.
 *
 * An order left `pending` (the process died, or the store failed, between the reservation and the payment record)
 * is resumed by the next replay of its key once it is older than `resumeAfterMs`, or by the saga's recovery step:
 * the charge is sent again with the same provider idempotency key (`<tenant>:<order id>`), so the provider answers
 * the charge it already made instead of charging twice. Two processes resuming at once are safe for the same
 * reason; the store records the first outcome and leaves the order unchanged for the second.
 */
export class Checkout {
  readonly #repo: Repository;
  readonly #policies: CheckoutPolicies;
  readonly #saga: CheckoutSaga;
  /** Concurrent duplicates (same tenant, key and body) in this process join the first one. */
  readonly #inFlight = new SingleFlight<CheckoutOutcome>({ name: 'checkout-dedupe' });
  readonly #clock: Clock;
  readonly #resumeAfterMs: number;

  /** @param options.resumeAfterMs - age after which a replay resumes a `pending` order. @default 10000 */
  constructor(
    repo: Repository,
    policies: CheckoutPolicies,
    saga: CheckoutSaga,
    options: { readonly clock?: Clock; readonly resumeAfterMs?: number } = {},
  ) {
    this.#repo = repo;
    this.#policies = policies;
    this.#saga = saga;
    this.#clock = options.clock ?? systemClock;
    this.#resumeAfterMs = checkNumber('resumeAfterMs', options.resumeAfterMs, 10_000, { min: 0 });
  }

  /** Checkouts currently running in this process. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Places the order, or answers the earlier outcome of the same key and body. `actor` is who the audit log names
   * (e.g. `jwt:alice@retailflow-web`); unset means `tenant:<id>`.
   */
  place(
    tenant: Tenant,
    idempotencyKey: string,
    body: CheckoutBody,
    deadline: Deadline | undefined,
    actor?: string,
  ): Promise<CheckoutOutcome> {
    const hash = requestHash(body);
    const flight = `${tenant.id}\u0000${idempotencyKey}\u0000${hash}`;
    const joined = this.#inFlight.has(flight);
    const result = this.#inFlight.run(flight, () =>
      this.#policies.tenantCheckout(tenant.id, () =>
        this.#run(tenant, idempotencyKey, hash, body, deadline, actor),
      ),
    );
    return joined ? result.then((r) => ('order' in r ? { ...r, replayed: true } : r)) : result;
  }

  async #run(
    tenant: Tenant,
    idempotencyKey: string,
    hash: string,
    body: CheckoutBody,
    deadline: Deadline | undefined,
    actor: string | undefined,
  ): Promise<CheckoutOutcome> {
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
        return { kind: 'unknown_product', productId: created.productId };
      case 'insufficient_stock':
        return {
          kind: 'insufficient_stock',
          productId: created.productId,
          requested: created.requested,
          available: created.available,
        };
      case 'key_conflict':
        return { kind: 'key_conflict', orderId: created.order.id };
      case 'replayed': {
        const stale = this.#clock.now() - created.order.updatedAt >= this.#resumeAfterMs;
        if (created.order.status !== 'pending' || !stale) return settledOutcome(created.order, true);
        return settledOutcome(await this.#saga.charge(created.order, deadline), true);
      }
      case 'created': {
        const order = await this.#saga.charge(created.order, deadline);
        // Cancelled while this very request was paying for it: never answered as placed.
        if (order.status === 'cancelled') return { kind: 'cancelled', order, replayed: false };
        return settledOutcome(order, false);
      }
    }
  }
}

/**
 * What a cancellation ended in: `cancelled` (a paid order's refund runs next), `cancel_requested` (its charge is in
 * flight: the saga cancels it once the charge settles, refunding a charge that succeeded), `already_cancelled`,
 * `not_cancellable` (fulfilled), `not_found`.
 */
export type CancelOutcome =
  | {
      readonly kind: 'cancelled' | 'cancel_requested' | 'already_cancelled' | 'not_cancellable';
      readonly order: Order;
    }
  | { readonly kind: 'not_found' };

/**
 * The cancellation use case: cancels the order (or records the request while its charge is in flight) and starts
 * the refund of a paid order in the background; the saga's recovery step retries a refund that failed.
 *
 * @example
 * ```ts
 * const outcome = await cancelOrder(repo, saga, { tenantId: 'acme', orderId });
 * ```
 */
export async function cancelOrder(
  repo: Repository,
  saga: CheckoutSaga,
  input: { readonly tenantId: string; readonly orderId: string; readonly actor?: string },
): Promise<CancelOutcome> {
  const result = await repo.cancelOrder(input);
  if (result.outcome === 'not_found') return { kind: 'not_found' };
  if (result.outcome === 'cancelled' && (result.saga === 'refunding' || result.saga === 'voiding')) {
    saga.compensateLater(result.order);
  }
  return { kind: result.outcome, order: result.order };
}
