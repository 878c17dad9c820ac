import { afterEach, describe, expect, it } from 'vitest';
import type { ChargeRequest, PaymentGateway, RefundRequest } from '../../src/payments/client.js';
import type { Charge } from '../../src/payments/simulator.js';
import type { RetailFlow } from '../../src/service.js';
import { ACME, call, order, startTestService, until, type ApiOrder } from '../helpers.js';

// Found by an attack: `DELETE` of an order while its payment was in flight cancelled it and released its stock;
// the charge then succeeded at the provider and was recorded nowhere, and the checkout still answered 201. The
// checkout is now a saga: a cancellation while the charge is in flight is recorded (202) and carried out once the
// charge settles, and a charge that succeeded meanwhile is refunded, so no charge is left without its order.

/** A provider whose charges succeed only when the test releases them, so the interleaving is the test's. */
function heldGateway() {
  const made: Charge[] = [];
  const refunded: RefundRequest[] = [];
  const waiting: (() => void)[] = [];
  const gateway: PaymentGateway = {
    async charge(request: ChargeRequest) {
      await new Promise<void>((resolve) => waiting.push(resolve));
      const charge: Charge = {
        id: `ch_${made.length + 1}`,
        amountCents: request.amountCents,
        currency: request.currency,
        reference: request.reference,
        status: 'succeeded',
      };
      made.push(charge);
      return charge;
    },
    refund(request: RefundRequest) {
      refunded.push(request);
      return Promise.resolve({ chargeId: made.find((c) => c.reference === request.reference)?.id ?? null });
    },
  };
  return { gateway, made, refunded, waiting, release: () => waiting.splice(0).forEach((go) => go()) };
}

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('cancelling an order while its payment is in flight', () => {
  it('is accepted (202) and carried out once the charge settles: the charge is refunded, the stock given back', async () => {
    const provider = heldGateway();
    service = (await startTestService({}, { paymentGateway: provider.gateway })).service;
    const stockBefore = (await service.repo.getProduct('acme', 'sku-mug'))!.stock;
    const placing = order(service.url, ACME, 'race-1');
    await until(() => provider.waiting.length === 1, 'the charge to be in flight');
    const [pending] = await service.repo.listOrders('acme', {}).then((p) => p.items);
    expect(pending?.status).toBe('pending');

    const cancel = await call<ApiOrder>(service.url, 'DELETE', `/api/v1/orders/${pending!.id}`, {
      key: ACME,
    });
    expect(cancel.status).toBe(202);
    expect(cancel.body.status).toBe('pending');

    provider.release();
    const placed = await placing;
    // The charge went through and was recorded; the order was cancelled right after, as asked, and the checkout
    // says so instead of answering it placed.
    expect(placed.status).toBe(409);
    const problem = placed.body as unknown as { type: string; orderId: string };
    expect(problem.type.endsWith('/order-cancelled')).toBe(true);
    expect(problem.orderId).toBe(pending!.id);
    await until(() => provider.refunded.length === 1, 'the refund');
    await until(
      async () => (await service!.repo.listOpenSagas({ updatedBefore: Infinity })).length === 0,
      'the saga',
    );
    const stored = await service.repo.getOrder('acme', pending!.id);
    expect(stored).toMatchObject({ status: 'cancelled', paymentId: provider.made[0]?.id });
    expect(provider.refunded).toEqual([{ idempotencyKey: `acme:${pending!.id}`, reference: pending!.id }]);
    expect((await service.repo.orderEvents('acme', pending!.id)).map((e) => e.type)).toEqual([
      'order.created',
      'order.cancel_requested',
      'order.confirmed',
      'order.cancelled',
      'order.refunded',
    ]);
    expect((await service.repo.getProduct('acme', 'sku-mug'))!.stock).toBe(stockBefore);

    // Cancelling again answers the cancelled order.
    const again = await call<ApiOrder>(service.url, 'DELETE', `/api/v1/orders/${pending!.id}`, { key: ACME });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');
  });
});
