import { checkNumber, systemClock, type Clock, type TimerHandle } from '@ballast/core';
import type { Deadline } from '@ballast/resilience';
import type { Order, Repository } from '../data/index.js';
import { isPaymentError, type PaymentGateway, type Refund } from '../payments/client.js';
import type { ServicePolicies } from '../policies.js';
import type { ChargeOutcome, SagaStep } from './events.js';

function describe(error: unknown): string {
  if (error instanceof Error)
    return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
  return String(error);
}

/** Options of {@link CheckoutSaga}. */
export interface CheckoutSagaOptions {
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * A saga whose last event is older than this is stuck (its process died, or its compensation failed): the
   * recovery step resumes or compensates it. Longer than the longest request, so a live checkout is never raced.
   * @default 10000
   */
  readonly stuckAfterMs?: number;
  /** Told about a compensation or recovery that failed (it is retried by the next recovery pass). */
  readonly onError?: (error: unknown, order: Order) => void;
  /**
   * How long one refund (or void) call may take before it is abandoned, in ms on the saga's clock. Refunds make one
   * attempt and skip the checkout's retry budget and breaker (a failed refund is retried by the next recovery pass,
   * and never counts against the charges' budget). @default 1000
   */
  readonly refundTimeoutMs?: number;
}

/** What one {@link CheckoutSaga.recover} pass did. */
export interface RecoveryReport {
  /** Charges sent again (same provider idempotency key) for orders left `charging`. */
  readonly resumed: number;
  /** Refunds or voids that ran and were recorded. */
  readonly compensated: number;
  /** Sagas left open because the provider or the store failed; the next pass tries again. */
  readonly failed: number;
}

/**
 * The checkout saga: reserve → charge → confirm, with its compensations (release the stock; refund a charge that
 * must not stand; void a charge whose outcome is unknown). Each step is an event of the order's stream (see
 * `orders/events.ts`), written in the transaction that changes the order, so a saga survives a crash where it
 * stood, and {@link recover} finishes it:
 *
 * | saga step | how it got there | what recovery does |
 * | --- | --- | --- |
 * | `charging` | `order.created` (stock reserved), the charge sent or about to be | sends the charge again with the same provider idempotency key (the provider answers the charge it made, or makes it) and records it; a cancellation requested meanwhile voids it instead |
 * | `voiding` | the charge failed without an answer (`unavailable`) | refunds or voids whatever was charged under the key, records `order.refunded` |
 * | `refunding` | a paid order was cancelled | refunds the charge, records `order.refunded` |
 *
 * Every step is idempotent (provider idempotency keys, version-checked appends), so two instances recovering the
 * same saga, or a recovery racing a replayed checkout, end in one outcome.
 *
 * @example
 * ```ts
 * const saga = new CheckoutSaga(repo, policies.payment, gateway, { clock });
 * const stop = saga.start(30_000); // recovery every 30 s (and once now)
 * ```
 */
export class CheckoutSaga {
  readonly #repo: Repository;
  readonly #payment: ServicePolicies['payment'];
  readonly #gateway: PaymentGateway;
  readonly #clock: Clock;
  readonly #stuckAfterMs: number;
  readonly #onError: (error: unknown, order: Order) => void;
  readonly #refundTimeoutMs: number;
  readonly #background = new Set<Promise<unknown>>();
  #pass: Promise<void> | undefined;

  constructor(
    repo: Repository,
    payment: ServicePolicies['payment'],
    gateway: PaymentGateway,
    options: CheckoutSagaOptions = {},
  ) {
    this.#repo = repo;
    this.#payment = payment;
    this.#gateway = gateway;
    this.#clock = options.clock ?? systemClock;
    this.#stuckAfterMs = checkNumber('stuckAfterMs', options.stuckAfterMs, 10_000, { min: 0 });
    this.#onError = options.onError ?? (() => {});
    this.#refundTimeoutMs = checkNumber('refundTimeoutMs', options.refundTimeoutMs, 1000, { min: 1 });
  }

  /** Compensations running in the background (the request that started them has been answered). */
  get compensating(): number {
    return this.#background.size;
  }

  /** Resolves when the background compensations started so far have ended (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.#background.size > 0 || this.#pass !== undefined) {
      await Promise.allSettled([...this.#background, this.#pass]);
    }
  }

  /**
   * Sends `order`'s charge through the payment policies and records its outcome; a compensation the outcome calls
   * for (a void after an unanswered charge, a refund when the order was cancelled meanwhile) starts in the
   * background. Resolves with the order as stored.
   */
  async charge(order: Order, deadline: Deadline | undefined): Promise<Order> {
    const settled = await this.#chargeAndRecord(order, deadline);
    if (settled.saga === 'voiding' || settled.saga === 'refunding') this.compensateLater(settled.order);
    return settled.order;
  }

  async #chargeAndRecord(
    order: Order,
    deadline: Deadline | undefined,
  ): Promise<{ order: Order; saga: SagaStep }> {
    let outcome: ChargeOutcome;
    try {
      const charge = await this.#payment(
        (call) =>
          this.#gateway.charge(
            {
              amountCents: order.totalCents,
              currency: order.currency,
              reference: order.id,
              idempotencyKey: providerKey(order),
            },
            call,
          ),
        deadline,
      );
      outcome = { ok: true, paymentId: charge.id };
    } catch (error) {
      const declined = isPaymentError(error) && !error.retryable;
      outcome = { ok: false, failure: declined ? 'declined' : 'unavailable', reason: describe(error) };
    }
    return this.#record(order, outcome);
  }

  async #record(order: Order, outcome: ChargeOutcome): Promise<{ order: Order; saga: SagaStep }> {
    // Recorded even when the caller's deadline has passed: the saga must not stay `charging`.
    const settled = await this.#repo.recordPayment({
      tenantId: order.tenantId,
      orderId: order.id,
      payment: outcome,
    });
    if (settled.outcome === 'not_found') return { order, saga: 'completed' };
    return { order: settled.order, saga: settled.saga };
  }

  /** Starts {@link compensate} in the background (errors go to `onError`; recovery retries). */
  compensateLater(order: Order): void {
    const running = this.compensate(order)
      .catch((error: unknown) => this.#onError(error, order))
      .finally(() => this.#background.delete(running));
    this.#background.add(running);
  }

  /**
   * Refunds or voids whatever was charged under the order's provider key and records `order.refunded`. Throws
   * when the provider or the store fails (the saga stays open for the next recovery pass).
   */
  async compensate(order: Order): Promise<void> {
    const controller = new AbortController();
    const timer = this.#clock.setTimeout(
      () => controller.abort(new Error(`refund timed out after ${this.#refundTimeoutMs} ms`)),
      this.#refundTimeoutMs,
      { ref: false },
    );
    let refund: Refund;
    try {
      refund = await this.#gateway.refund(
        { idempotencyKey: providerKey(order), reference: order.id },
        { signal: controller.signal, deadline: undefined },
      );
    } finally {
      this.#clock.clearTimeout(timer);
    }
    await this.#repo.recordCompensation({
      tenantId: order.tenantId,
      orderId: order.id,
      chargeId: refund.chargeId,
    });
  }

  /** One recovery pass over the sagas stuck for longer than `stuckAfterMs` (up to `limit` of them). */
  async recover(limit = 50): Promise<RecoveryReport> {
    const stuck = await this.#repo.listOpenSagas({
      updatedBefore: this.#clock.now() - this.#stuckAfterMs,
      limit,
    });
    let resumed = 0;
    let compensated = 0;
    let failed = 0;
    for (const saga of stuck) {
      try {
        let settled: { order: Order; saga: SagaStep } = { order: saga.order, saga: saga.step };
        if (saga.step === 'charging' && !saga.cancelRequested) {
          settled = await this.#chargeAndRecord(saga.order, undefined);
          resumed++;
        } else if (saga.step === 'charging') {
          // Cancelled while its charge was in flight, and that charge never came back: void it, whatever it did.
          settled = await this.#record(saga.order, {
            ok: false,
            failure: 'unavailable',
            reason: 'cancelled before its charge settled',
          });
        }
        if (settled.saga === 'voiding' || settled.saga === 'refunding') {
          await this.compensate(settled.order);
          compensated++;
        }
      } catch (error) {
        failed++;
        this.#onError(error, saga.order);
      }
    }
    return { resumed, compensated, failed };
  }

  /**
   * Runs {@link recover} now and then every `intervalMs` on the saga's clock (a timer that does not hold the
   * process). Returns a function that stops it.
   */
  start(intervalMs: number, onReport?: (report: RecoveryReport) => void): () => void {
    checkNumber('intervalMs', intervalMs, 0, { min: 1 });
    let stopped = false;
    let timer: TimerHandle | undefined;
    const tick = (): void => {
      if (stopped) return;
      this.#pass = this.recover()
        .then((report) => onReport?.(report))
        .catch(() => {})
        .finally(() => {
          this.#pass = undefined;
          if (!stopped) timer = this.#clock.setTimeout(tick, intervalMs, { ref: false });
        });
    };
    tick();
    return () => {
      stopped = true;
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    };
  }
}

/** The provider idempotency key of an order's charge (and of its refund): one per order. */
export function providerKey(order: Order): string {
  return `${order.tenantId}:${order.id}`;
}
