import type { Clock } from '@ballast/core';
import { AdaptiveThrottle, TtlCache } from '@ballast/resilience';

/**
 * A price lookup that protects the pricing service: a TTL cache with jitter (no synchronized expiry),
 * stale-while-revalidate (callers never wait on a refresh) and stale-if-error (an outage serves the last price),
 * concurrent misses collapsed into one call, and SRE-book adaptive throttling on the calls that do go out.
 */
export function createPriceLookup(
  fetchPrice: (sku: string) => Promise<number>,
  clock?: Clock,
): (sku: string) => Promise<number> {
  const time = clock ? { clock } : {};
  const throttle = new AdaptiveThrottle({ name: 'pricing', k: 2, ...time });
  const prices = new TtlCache<number>({
    name: 'prices',
    ttlMs: 30_000,
    jitter: 0.1,
    staleWhileRevalidateMs: 60_000,
    staleIfErrorMs: 300_000,
    maxEntries: 10_000,
    ...time,
  });
  return (sku) => prices.get(sku, () => throttle.execute(() => fetchPrice(sku)));
}
