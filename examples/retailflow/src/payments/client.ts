import { brand, hasBrand } from '@ballast/core';
import { writeDeadlineHeader, type CallContext } from '@ballast/resilience';
import type { Charge } from './simulator.js';

const kind = Symbol.for('ballast.retailflow.PaymentError');

/**
 * A payment call that failed. `retryable` is true for failures a retry may fix (network errors, 5xx, 429) and
 * false for answers that will not change (4xx): the retry policy and the breaker's failure predicate read it.
 */
export class PaymentError extends Error {
  readonly status: number | undefined;
  readonly retryable: boolean;
  constructor(message: string, status: number | undefined, retryable: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PaymentError';
    this.status = status;
    this.retryable = retryable;
    brand(this, kind);
  }
}

/** True when `value` is a {@link PaymentError}. */
export function isPaymentError(value: unknown): value is PaymentError {
  return hasBrand(value, kind);
}

/** One charge request. */
export interface ChargeRequest {
  readonly amountCents: number;
  readonly currency: string;
  /** Our reference (the order id). */
  readonly reference: string;
  /** Sent as `Idempotency-Key`, so retries of one checkout never charge twice. */
  readonly idempotencyKey: string;
}

/** Undoes whatever was charged under a charge's idempotency key. */
export interface RefundRequest {
  /** The `Idempotency-Key` the charge was (or may have been) sent with. */
  readonly idempotencyKey: string;
  /** Our reference (the order id). */
  readonly reference: string;
}

/** What a refund did: `chargeId` of the refunded charge, or `null` when nothing had been charged (the key is void). */
export interface Refund {
  readonly chargeId: string | null;
}

/** The payment provider as checkout sees it. */
export interface PaymentGateway {
  /**
   * Charges once. Aborts when `call.signal` aborts; sends what is left of `call.deadline` as
   * `x-request-deadline-ms`. Throws {@link PaymentError}.
   */
  charge(request: ChargeRequest, call: Pick<CallContext, 'signal' | 'deadline'>): Promise<Charge>;
  /**
   * Refunds the charge made under `request.idempotencyKey`, or voids the key when no charge was made (a charge
   * still in flight is then refused by the provider), so the checkout saga can undo a charge whose outcome it does
   * not know. Idempotent. Throws {@link PaymentError}.
   */
  refund(request: RefundRequest, call: Pick<CallContext, 'signal' | 'deadline'>): Promise<Refund>;
}

/**
 * The HTTP client for the payment provider. It makes exactly one attempt per call: timeouts, retries and the
 * breaker are the caller's policies, and the abort signal carries the deadline of the inbound request. Pass an
 * instrumented `fetch` (`instrumentFetch` from `@ballast/telemetry`) for outbound RED metrics and trace context.
 *
 * @example
 * ```ts
 * const gateway = httpPaymentGateway('http://127.0.0.1:3001');
 * const charge = await gateway.charge(
 *   { amountCents: 1999, currency: 'EUR', reference: 'ord_1', idempotencyKey: 'k1' },
 *   { signal: AbortSignal.timeout(1000), deadline: undefined },
 * );
 * ```
 */
export function httpPaymentGateway(baseUrl: string, fetchImpl: typeof fetch = fetch): PaymentGateway {
  const charges = new URL('/v1/charges', baseUrl).href;
  const refunds = new URL('/v1/refunds', baseUrl).href;
  async function post<T>(
    endpoint: string,
    idempotencyKey: string,
    body: unknown,
    call: Pick<CallContext, 'signal' | 'deadline'>,
  ): Promise<T> {
    const signal = call.signal;
    let response: Response;
    try {
      response = await fetchImpl(endpoint, {
        method: 'POST',
        headers: writeDeadlineHeader(
          { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          call.deadline,
        ),
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new PaymentError('payment provider unreachable', undefined, true, error);
    }
    if (response.ok) return (await response.json()) as T;
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
    throw new PaymentError(`payment provider answered ${response.status}`, response.status, retryable);
  }
  return {
    charge: (request, call) =>
      post<Charge>(
        charges,
        request.idempotencyKey,
        { amountCents: request.amountCents, currency: request.currency, reference: request.reference },
        call,
      ),
    async refund(request, call) {
      const answer = await post<{ chargeId: string | null }>(
        refunds,
        request.idempotencyKey,
        { reference: request.reference },
        call,
      );
      return { chargeId: answer.chargeId };
    },
  };
}
