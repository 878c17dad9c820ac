import { afterEach, describe, expect, it } from 'vitest';
import type { ChargeRequest, PaymentGateway } from '../../src/payments/client.js';
import type { Charge } from '../../src/payments/simulator.js';
import type { RetailFlow } from '../../src/service.js';
import { ACME, call, order, startTestService, until, type ApiOrder } from '../helpers.js';

// Found by an attack: `DELETE` of an order while its payment was in flight cancelled it and released its stock;
// the charge then succeeded at the provider and was recorded nowhere, and the checkout still answered 201. A
// pending order (its charge may be in flight) now cannot be cancelled: 409 + Retry-After until the payment is
// recorded, under the same row lock that records it.

/** A provider whose charges succeed only when the test releases them, so the interleaving is the test's. */
function heldGateway() {
  const made: Charge[] = [];
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
  };
  return { gateway, made, waiting, release: () => waiting.splice(0).forEach((go) => go()) };
}

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('cancelling an order while its payment is in flight', () => {
  it('is refused with 409 until the payment is recorded; no charge is left without its order', async () => {
    const provider = heldGateway();
    service = (await startTestService({}, { paymentGateway: provider.gateway })).service;
    const placing = order(service.url, ACME, 'race-1');
    await until(() => provider.waiting.length === 1, 'the charge to be in flight');
    const [pending] = await service.repo.listOrders('acme', {}).then((p) => p.items);
    expect(pending?.status).toBe('pending');

    const cancel = await call(service.url, 'DELETE', `/api/v1/orders/${pending!.id}`, { key: ACME });
    expect(cancel.status).toBe(409);
    expect(cancel.headers.get('retry-after')).toBe('1');

    provider.release();
    const placed = await placing;
    expect(placed.status).toBe(201);
    expect(placed.body.status).toBe('confirmed');
    // Every charge the provider made is recorded on an order that is not cancelled.
    const stored = await service.repo.getOrder('acme', pending!.id);
    expect(provider.made.map((c) => c.id)).toEqual([stored?.paymentId]);
    expect(stored?.status).toBe('confirmed');

    // Once paid, cancelling works (and the paid order keeps its payment id for the refund).
    const after = await call<ApiOrder>(service.url, 'DELETE', `/api/v1/orders/${pending!.id}`, { key: ACME });
    expect(after.status).toBe(200);
    expect(after.body.paymentId).toBe(provider.made[0]?.id);
  });
});
