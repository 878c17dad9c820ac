import type { RateLimitDecision } from './RateLimitRule.js';

/**
 * Which revision of the IETF `RateLimit` header fields to send:
 * - `'draft-6'` (draft-ietf-httpapi-ratelimit-headers-06 and earlier): `RateLimit-Limit`, `RateLimit-Remaining`,
 *   `RateLimit-Reset` (delta seconds) and `RateLimit-Policy: 100;w=60`. The form most gateways, SDKs and dashboards
 *   read today, hence the default.
 * - `'draft-8'` (draft 08 onward): two structured fields, `RateLimit-Policy: "default";q=100;w=60` and
 *   `RateLimit: "default";r=42;t=30`.
 */
export type RateLimitHeaderStandard = 'draft-6' | 'draft-8';

/**
 * The response headers for `decision`: the IETF `RateLimit` fields of `standard`, plus `Retry-After` (seconds,
 * rounded up, at least 1) when the request was denied.
 *
 * @param policyName - the quota policy's name in `draft-8` fields (a token). @default 'default'
 * @example
 * ```ts
 * import { rateLimitHeaders } from '@ballast/resilience';
 * for (const [name, value] of Object.entries(rateLimitHeaders(decision))) res.setHeader(name, value);
 * ```
 */
export function rateLimitHeaders(
  decision: RateLimitDecision,
  standard: RateLimitHeaderStandard = 'draft-6',
  policyName = 'default',
): Record<string, string> {
  const reset = Math.ceil(decision.resetAfterMs / 1000);
  const window = Math.ceil(decision.periodMs / 1000);
  const remaining = Math.max(0, Math.floor(decision.remaining));
  const headers: Record<string, string> =
    standard === 'draft-8'
      ? {
          'RateLimit-Policy': `"${policyName}";q=${decision.limit};w=${window}`,
          RateLimit: `"${policyName}";r=${remaining};t=${reset}`,
        }
      : {
          'RateLimit-Limit': String(decision.limit),
          'RateLimit-Remaining': String(remaining),
          'RateLimit-Reset': String(reset),
          'RateLimit-Policy': `${decision.limit};w=${window}`,
        };
  if (!decision.allowed)
    headers['Retry-After'] = String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  return headers;
}
