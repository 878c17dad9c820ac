import type { GcraParams, RateLimitDecision } from './RateLimitRule.js';

/** A {@link RateLimitDecision} plus the theoretical arrival time the store must keep for the key. */
export interface GcraDecision extends RateLimitDecision {
  /** The key's new theoretical arrival time (epoch ms); unchanged when the request was denied. */
  readonly tat: number;
}

/** Slack for floating-point sums of fractional emission intervals (1 ns). */
const EPSILON_MS = 1e-6;

/**
 * The Generic Cell Rate Algorithm (ITU-T I.371; used by Stripe, Envoy's and Redis Cell's limiters) as a pure
 * function. A key's whole state is one number, its theoretical arrival time `tat`:
 *
 * ```text
 * T = periodMs / limit, tau = T * burst
 * next = max(tat, now) + cost * T
 * allowed  <=>  next - now <= tau            (then tat = next)
 * retryAfter = next - tau - now,  remaining = floor((tau - (tat - now)) / T),  resetAfter = tat - now
 * ```
 *
 * It is exactly a token bucket of `burst` tokens refilled one per `T` ms, but needs no refill timer and stores one
 * number, which is why the Redis script can be a single GET and SET.
 *
 * @example
 * ```ts
 * // Internal to @ballast/resilience (stores use it; not exported from the package).
 * import { gcra } from './gcra.js';
 * import { gcraParams } from './RateLimitRule.js';
 * const d = gcra(undefined, 0, gcraParams({ limit: 10, periodMs: 1000 }), 1);
 * // d.allowed === true, d.remaining === 9, d.resetAfterMs === 100
 * ```
 */
export function gcra(tat: number | undefined, now: number, params: GcraParams, cost: number): GcraDecision {
  const T = params.emissionMs;
  const tau = params.toleranceMs;
  const base = tat === undefined || tat < now ? now : tat;
  const next = base + cost * T;
  const ahead = next - now;
  if (ahead <= tau + EPSILON_MS) {
    return {
      allowed: true,
      remaining: Math.floor((tau - ahead) / T + EPSILON_MS),
      resetAfterMs: ahead,
      retryAfterMs: 0,
      limit: params.limit,
      periodMs: params.periodMs,
      tat: next,
    };
  }
  return {
    allowed: false,
    remaining: Math.max(0, Math.floor((tau - (base - now)) / T + EPSILON_MS)),
    resetAfterMs: base - now,
    retryAfterMs: ahead - tau,
    limit: params.limit,
    periodMs: params.periodMs,
    tat: base,
  };
}
