import {
  BulkheadPolicy,
  ConcurrencyLimiter,
  EventLoopPressure,
  Gradient2Limit,
  SaturationSignal,
} from '@ballast/resilience';
import type { Clock } from '@ballast/core';

/**
 * Checkout (critical, expensive: a database transaction behind a bulkhead) and catalog reads (sheddable, cheap)
 * share one process. While checkouts queue for the bulkhead and the event loop is saturated, reads are shed at the
 * door; once the bulkhead is full, checkouts are refused at the door too.
 */
export function checkoutIngress(
  options: { readonly clock?: Clock; readonly loop?: { readonly underPressure: boolean } } = {},
) {
  const inventory = new BulkheadPolicy({
    name: 'inventory',
    limit: 12,
    maxQueued: 4,
    queueTimeoutMs: 50,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const loop = options.loop ?? new EventLoopPressure();
  const ingress = new ConcurrencyLimiter({
    name: 'ingress',
    ...(options.clock ? { clock: options.clock } : {}),
    // The limit guards the process as a whole; a high floor keeps checkouts waiting on the bulkhead from
    // filling the share cheap reads may take. Priority between the two comes from the signal.
    algorithm: new Gradient2Limit({ initialLimit: 200, minLimit: 100, maxLimit: 1000 }),
    admission: new SaturationSignal({
      saturation: () => inventory.queued / inventory.maxQueued,
      onlyWhile: () => loop.underPressure,
    }),
  });
  return { inventory, ingress };
}
