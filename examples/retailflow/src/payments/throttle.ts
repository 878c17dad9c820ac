import type { Clock } from '@ballast/core';
import { AdaptiveThrottle } from '@ballast/resilience';
import { isPaymentError } from './client.js';

/**
 * True when a failed payment attempt means the provider did not take the call: every failure but a decline (a 4xx
 * the provider answered on purpose, which proves it is up). 5xx, 429, 408, unreachable, timed out and chaos
 * failures all count.
 *
 * @example
 * ```ts
 * isProviderRejection(new PaymentError('payment provider answered 503', 503, true)); // true
 * isProviderRejection(new PaymentError('payment provider answered 402', 402, false)); // false
 * ```
 */
export function isProviderRejection(error: unknown): boolean {
  return !(isPaymentError(error) && !error.retryable);
}

/** Options of {@link paymentThrottle}. */
export interface PaymentThrottleOptions {
  /** The SRE book's K: attempts go on until they reach K times what the provider accepted (`PAYMENT_THROTTLE_K`). */
  readonly k: number;
  /** The window the counts cover, in ms (`PAYMENT_THROTTLE_WINDOW_MS`). */
  readonly windowMs: number;
  readonly clock: Clock;
  readonly random: () => number;
}

/**
 * Client-side throttling of payment attempts (Google's SRE book, "Handling Overload"): when the provider rejects
 * most attempts, this client refuses the same share locally, at once, with a `ThrottledError`, instead of piling
 * more of them on a provider that is already refusing work: of `requests` attempted in the window and `accepts`
 * the provider took, an attempt is refused with probability `max(0, (requests - k * accepts) / (requests + 1))`,
 * at most 0.9 (a tenth of the attempts still tell when the provider is back) and 0 while the window holds fewer
 * than 20 attempts (a quiet hour's two failures do not refuse half of the next checkouts).
 *
 * It wraps each attempt (inside the retry policy, so a retry is an attempt like any other, and inside the breaker,
 * so an open circuit's refusals are not counted): a throttled attempt is not retried (a refusal), and it counts as
 * a failure to the breaker, as the rejection it stands for would have. A window shorter than the breaker's open
 * time has emptied by the time the breaker lets its probe through, so the probe is never throttled on old counts.
 *
 * @example
 * ```ts
 * const throttle = paymentThrottle({ k: 2, windowMs: 5_000, clock: systemClock, random: Math.random });
 * const charge = await throttle.execute(() => gateway.charge(request, call));
 * ```
 */
export function paymentThrottle(options: PaymentThrottleOptions): AdaptiveThrottle {
  return new AdaptiveThrottle({
    name: 'payment-throttle',
    k: options.k,
    windowMs: options.windowMs,
    // Buckets of a quarter of a second: the window slides in small steps.
    buckets: Math.max(1, Math.min(120, Math.round(options.windowMs / 250))),
    // Not on a handful of attempts: at low volume two failures would refuse half of what follows.
    minRequests: 20,
    // A tenth of the attempts always reach the provider, so the accepts that lift the throttle come as soon as it
    // recovers.
    maxRejectionProbability: 0.9,
    clock: options.clock,
    random: options.random,
    isRejection: isProviderRejection,
  });
}
