import { checkNumber, invalidOption } from '@ballast/core';

/**
 * A rate: `limit` requests per `periodMs`, with bursts of up to `burst` requests at once.
 *
 * @example
 * ```ts
 * const pro: RateLimitRule = { limit: 600, periodMs: 60_000 }; // 10 requests/s, bursts of 600
 * ```
 */
export interface RateLimitRule {
  /** Requests allowed per period (an integer >= 1). */
  readonly limit: number;
  /** The period in milliseconds. */
  readonly periodMs: number;
  /** Most requests admitted at once from an idle key (an integer >= 1). @default limit */
  readonly burst?: number;
}

/**
 * The answer to one rate-limit request: enough to set the IETF `RateLimit-*` headers and `Retry-After`.
 *
 * @example
 * ```ts
 * const d = await limiter.consume(tenant);
 * if (!d.allowed) res.setHeader('Retry-After', Math.ceil(d.retryAfterMs / 1000));
 * ```
 */
export interface RateLimitDecision {
  /** True when the request conforms and was counted. */
  readonly allowed: boolean;
  /** Requests of cost 1 that would be allowed right now after this decision. */
  readonly remaining: number;
  /** Milliseconds until the key is back to its full burst (the quota fully resets). */
  readonly resetAfterMs: number;
  /** Milliseconds until this request would be allowed; 0 when allowed. */
  readonly retryAfterMs: number;
  /** The rule's `limit` (for `RateLimit-Limit`). */
  readonly limit: number;
  /** The rule's `periodMs` (the quota window, for `RateLimit-Policy`). */
  readonly periodMs: number;
}

/** A rule with its GCRA constants worked out, as stores receive it. */
export interface GcraParams {
  readonly limit: number;
  readonly periodMs: number;
  readonly burst: number;
  /** Emission interval: `periodMs / limit`, the spacing of conforming requests. */
  readonly emissionMs: number;
  /** Delay variation tolerance: `emissionMs * burst`. */
  readonly toleranceMs: number;
}

const cache = new WeakMap<RateLimitRule, GcraParams>();

/**
 * Validates `rule` (errors name `where`) and derives its GCRA constants; the result is cached per rule object, so
 * passing the same plan object on every request costs one WeakMap lookup.
 *
 * @example
 * ```ts
 * // The parameters a RateLimitStore's `consume()` takes, for code that drives a store directly
 * // (a failure counter on a MemoryRateLimitStore, say) rather than through a RateLimiter.
 * import { gcraParams } from '@ballast/resilience';
 * gcraParams({ limit: 10, periodMs: 1000 }); // { limit: 10, periodMs: 1000, burst: 10, emissionMs: 100, toleranceMs: 1000 }
 * ```
 */
export function gcraParams(rule: RateLimitRule, where = 'rule'): GcraParams {
  const cached = cache.get(rule);
  if (cached) return cached;
  if (typeof rule !== 'object' || rule === null) {
    throw invalidOption(where, 'an object { limit, periodMs, burst? }', rule);
  }
  if (rule.limit === undefined) throw invalidOption(`${where}.limit`, 'an integer >= 1', undefined);
  if (rule.periodMs === undefined) throw invalidOption(`${where}.periodMs`, 'a finite number > 0', undefined);
  const limit = checkNumber(`${where}.limit`, rule.limit, 1, { integer: true, min: 1 });
  const periodMs = checkNumber(`${where}.periodMs`, rule.periodMs, 1, { above: 0, max: 2 ** 40 });
  const burst = checkNumber(`${where}.burst`, rule.burst, limit, { integer: true, min: 1 });
  const emissionMs = periodMs / limit;
  const params = { limit, periodMs, burst, emissionMs, toleranceMs: emissionMs * burst };
  cache.set(rule, params);
  return params;
}
