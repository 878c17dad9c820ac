import type { FulfilmentStore } from '../src/data/index.js';

/** An in-memory {@link FulfilmentStore}: every order is shippable; `shipped` lists the order ids, in order. */
export function fakeFulfilmentStore(): FulfilmentStore & { readonly shipped: string[] } {
  const shipped: string[] = [];
  const processed = new Set<string>();
  return {
    shipped,
    fulfilOrder(input) {
      const key = `${input.consumer}\u0000${input.eventId}`;
      if (processed.has(key)) return Promise.resolve('duplicate');
      processed.add(key);
      shipped.push(input.orderId);
      return Promise.resolve('fulfilled');
    },
    countShipments: () => Promise.resolve(shipped.length),
    isProcessed: (consumer, eventId) => Promise.resolve(processed.has(`${consumer}\u0000${eventId}`)),
  };
}
