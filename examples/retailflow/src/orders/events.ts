import type { Order, OrderItem, OrderStatus } from '../data/repository.js';

/**
 * The events of one order's stream, in the order they happened. An order's state is never stored on its own: it
 * is folded from these (see {@link foldOrder}); the `orders`, `order_items`, `stock_reservations` and
 * `checkout_sagas` tables are projections of them, rebuilt from them by `rebuild-projections`.
 *
 * The checkout saga (reserve → charge → confirm, with its compensations) is persisted as the same events:
 * - `order.created`: the order exists, its stock is reserved, and its charge is about to be sent (saga `charging`);
 * - `order.cancel_requested`: the tenant cancelled while the charge was in flight; the saga cancels once it settles;
 * - `order.confirmed`: the provider charged (`paymentId`);
 * - `order.payment_failed`: the charge failed; `failure` says whether the provider refused it (`declined`: nothing
 *   was charged) or its outcome is unknown (`unavailable`: timeouts, outages; a charge may exist, so the saga voids
 *   it); the stock is released;
 * - `order.cancelled`: the order is cancelled, its stock released; a paid one is refunded next (saga `refunding`);
 * - `order.refunded`: the compensation ran: the provider refunded or voided whatever was charged under the order's
 *   key (or confirmed nothing was), so no charge is left without its order;
 * - `order.fulfilled`: shipped by the fulfilment consumer.
 *
 * `order.created`, `order.confirmed`, `order.payment_failed` and `order.cancelled` are published through the outbox
 * (outbox id = event id); the others stay inside the service.
 */
export type OrderEventData =
  | {
      readonly type: 'order.created';
      readonly data: {
        readonly idempotencyKey: string;
        readonly requestHash: string;
        readonly items: readonly OrderItem[];
        readonly totalCents: number;
        readonly currency: string;
      };
    }
  | { readonly type: 'order.cancel_requested'; readonly data: { readonly reason: string } }
  | { readonly type: 'order.confirmed'; readonly data: { readonly paymentId: string } }
  | {
      readonly type: 'order.payment_failed';
      readonly data: { readonly failure: PaymentFailureKind; readonly reason: string };
    }
  | { readonly type: 'order.cancelled'; readonly data: { readonly reason: string } }
  | { readonly type: 'order.refunded'; readonly data: { readonly chargeId: string | null } }
  | { readonly type: 'order.fulfilled'; readonly data: { readonly eventId: string } };

/** Every type of an order's stream. */
export type OrderStreamEventType = OrderEventData['type'];

/**
 * Why a charge failed: `declined` (the provider answered and refused: nothing was charged) or `unavailable` (no
 * answer, an outage, a timeout, an open breaker: the outcome is unknown and the saga voids the charge).
 */
export type PaymentFailureKind = 'declined' | 'unavailable';

/** The types published through the outbox, with their payload shapes unchanged. */
export const PUBLISHED_ORDER_EVENTS: ReadonlySet<OrderStreamEventType> = new Set([
  'order.created',
  'order.confirmed',
  'order.payment_failed',
  'order.cancelled',
]);

/** One stored event of an order's stream. */
export type OrderEvent = OrderEventData & {
  /** Unique id (UUID); also the outbox id of a published event, so consumers deduplicate on it. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly orderId: string;
  /** 1 for `order.created`, then one more per event: the stream's optimistic-concurrency version. */
  readonly version: number;
  /** Epoch ms. */
  readonly at: number;
  /** Who caused it (`tenant:acme`, `system`, `consumer:fulfilment`, …). */
  readonly actor: string;
};

/**
 * Where an order's checkout saga stands: `charging` (the charge may be in flight), `voiding` (a charge whose outcome
 * is unknown is being voided), `refunding` (a paid order was cancelled: its charge is being refunded), `completed`
 * (nothing left to do).
 */
export type SagaStep = 'charging' | 'voiding' | 'refunding' | 'completed';

/** An order folded from its events, with its saga. */
export interface OrderState {
  readonly order: Order;
  /** The version of the last event folded in (what the next append expects). */
  readonly version: number;
  readonly saga: {
    readonly step: SagaStep;
    /** The tenant asked to cancel while the charge was in flight. */
    readonly cancelRequested: boolean;
  };
  /** True while the order holds stock (from `order.created` until it is released). */
  readonly reserved: boolean;
}

/**
 * Folds one event into the state before it (`undefined` before `order.created`). Pure: the live projections and a
 * rebuild both go through it, so they cannot disagree.
 */
export function evolve(state: OrderState | undefined, event: OrderEvent): OrderState {
  if (event.type === 'order.created') {
    if (state !== undefined)
      throw new Error(`order ${event.orderId}: order.created after version ${state.version}`);
    const d = event.data;
    return {
      order: {
        tenantId: event.tenantId,
        id: event.orderId,
        idempotencyKey: d.idempotencyKey,
        requestHash: d.requestHash,
        status: 'pending',
        items: d.items,
        totalCents: d.totalCents,
        currency: d.currency,
        paymentId: null,
        paymentFailure: null,
        statusReason: null,
        createdAt: event.at,
        updatedAt: event.at,
        deletedAt: null,
      },
      version: event.version,
      saga: { step: 'charging', cancelRequested: false },
      reserved: true,
    };
  }
  if (state === undefined) throw new Error(`order ${event.orderId}: ${event.type} before order.created`);
  const base = { ...state, version: event.version };
  const order = (status: OrderStatus, changes: Partial<Order> = {}): Order => ({
    ...state.order,
    status,
    ...changes,
    updatedAt: event.at,
  });
  switch (event.type) {
    case 'order.cancel_requested':
      return { ...base, saga: { ...state.saga, cancelRequested: true } };
    case 'order.confirmed':
      return {
        ...base,
        order: order('confirmed', { paymentId: event.data.paymentId }),
        saga: { ...state.saga, step: 'completed' },
      };
    case 'order.payment_failed':
      return {
        ...base,
        // The reason text keeps its `<kind>: ` form: the published payload's `reason` is unchanged.
        order: order('payment_failed', {
          paymentFailure: event.data.failure,
          statusReason: `${event.data.failure}: ${event.data.reason}`,
        }),
        saga: { ...state.saga, step: event.data.failure === 'unavailable' ? 'voiding' : 'completed' },
        reserved: false,
      };
    case 'order.cancelled':
      return {
        ...base,
        order: order('cancelled', { statusReason: event.data.reason, deletedAt: event.at }),
        saga: {
          cancelRequested: false,
          step:
            state.order.paymentId !== null
              ? 'refunding'
              : state.saga.step === 'voiding'
                ? 'voiding'
                : 'completed',
        },
        reserved: false,
      };
    case 'order.refunded':
      return {
        ...base,
        order: { ...state.order, updatedAt: event.at },
        saga: { ...state.saga, step: 'completed' },
      };
    case 'order.fulfilled':
      return { ...base, order: order('fulfilled') };
  }
}

/** Folds a whole stream (in version order); `undefined` for an empty one. */
export function foldOrder(events: readonly OrderEvent[]): OrderState | undefined {
  let state: OrderState | undefined;
  for (const event of events) {
    if (event.version !== (state?.version ?? 0) + 1) {
      throw new Error(
        `order ${event.orderId}: expected version ${(state?.version ?? 0) + 1}, got ${event.version}`,
      );
    }
    state = evolve(state, event);
  }
  return state;
}

/** The payload a published event carries: the order as it is after the change (the shape consumers know). */
export function publishedPayload(order: Order): Record<string, unknown> {
  return {
    orderId: order.id,
    status: order.status,
    totalCents: order.totalCents,
    currency: order.currency,
    paymentId: order.paymentId,
    reason: order.statusReason,
    items: order.items,
  };
}

// ---- decisions: what a command appends, given the state (pure) ----

/** What the provider answered a charge, as the saga records it. */
export type ChargeOutcome =
  | { readonly ok: true; readonly paymentId: string }
  | { readonly ok: false; readonly failure: PaymentFailureKind; readonly reason: string };

/**
 * Records a charge's outcome: a `pending` order is confirmed or failed, and cancelled after that if the tenant asked
 * while the charge was in flight (a paid one is then refunded). Anything else is already settled: nothing.
 */
export function decideChargeOutcome(state: OrderState, outcome: ChargeOutcome): OrderEventData[] {
  if (state.order.status !== 'pending') return [];
  const settled: OrderEventData = outcome.ok
    ? { type: 'order.confirmed', data: { paymentId: outcome.paymentId } }
    : { type: 'order.payment_failed', data: { failure: outcome.failure, reason: outcome.reason } };
  return state.saga.cancelRequested
    ? [
        settled,
        { type: 'order.cancelled', data: { reason: 'cancelled by tenant while its payment was in flight' } },
      ]
    : [settled];
}

/** What a cancellation decided (see `CancelOrderResult`). */
export type CancelDecision =
  | { readonly outcome: 'cancelled' | 'cancel_requested'; readonly events: OrderEventData[] }
  | { readonly outcome: 'already_cancelled' | 'not_cancellable'; readonly events: [] };

/**
 * Cancels an order: at once when its payment has settled (released stock; a paid order is refunded next); while its
 * charge is in flight the request is recorded and the saga cancels once the charge settles.
 */
export function decideCancel(state: OrderState, reason: string): CancelDecision {
  switch (state.order.status) {
    case 'cancelled':
      return { outcome: 'already_cancelled', events: [] };
    case 'fulfilled':
      return { outcome: 'not_cancellable', events: [] };
    case 'pending':
      return state.saga.cancelRequested
        ? { outcome: 'cancel_requested', events: [] }
        : { outcome: 'cancel_requested', events: [{ type: 'order.cancel_requested', data: { reason } }] };
    default:
      return { outcome: 'cancelled', events: [{ type: 'order.cancelled', data: { reason } }] };
  }
}
