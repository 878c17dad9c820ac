import { createHash } from 'node:crypto';

/**
 * SHA-256 of an API key as lower-case hex: what the tenants table stores and what authentication looks up.
 *
 * @example
 * ```ts
 * import { hashApiKey } from './data/index.js';
 * const tenant = await repo.findTenantByApiKeyHash(hashApiKey(bearerToken));
 * ```
 */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * SHA-256 (hex) of the canonical JSON of a request body: object keys sorted at every level, `undefined` members
 * dropped. Two bodies that differ only in key order hash the same; that is what an idempotent replay compares.
 *
 * @example
 * ```ts
 * import { requestHash } from './data/index.js';
 * requestHash({ a: 1, b: [2] }) === requestHash({ b: [2], a: 1 }); // true
 * ```
 */
export function requestHash(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(body)) ?? 'undefined', 'utf8')
    .digest('hex');
}
