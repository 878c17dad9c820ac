// Shared helpers for RetailFlow's k6 scenarios. Run with k6 >= 0.52 (TypeScript is run natively), e.g.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 examples/retailflow/load/k6/browse.ts
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { check } from 'k6';

/** Where RetailFlow listens (`-e BASE_URL=...`). */
export const BASE_URL: string = __ENV.BASE_URL ?? 'http://127.0.0.1:3000';

/** The development keys RetailFlow seeds on embedded defaults (see the README); override with -e. */
export const TENANT_KEYS: readonly string[] = [
  __ENV.ACME_KEY ?? 'rf_acme_dev_key',
  __ENV.GLOBEX_KEY ?? 'rf_globex_dev_key',
];

/** A unique idempotency key per checkout attempt (VU, iteration and a random suffix). */
function idempotencyKey(): string {
  return `k6-${__VU}-${__ITER}-${Math.random().toString(36).slice(2, 12)}`;
}

/** A key per virtual user, so both plans (pro and free) see load. */
export function tenantKey(): string {
  return TENANT_KEYS[__VU % TENANT_KEYS.length] ?? TENANT_KEYS[0] ?? '';
}

function headers(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra };
}

interface ProductSummary {
  readonly id: string;
}

/** GET the catalog, then one product. Returns the product ids seen. */
export function browse(key: string): string[] {
  const list = http.get(`${BASE_URL}/api/v1/products`, { headers: headers(key), tags: { name: 'products' } });
  check(list, { 'catalog answered (200 or 429/503 under load)': (r) => [200, 429, 503].includes(r.status) });
  if (list.status !== 200) return [];
  const body = list.json() as { items?: ProductSummary[] } | null;
  const ids = (body?.items ?? []).map((p) => p.id);
  const id = ids[Math.floor(Math.random() * ids.length)];
  if (id !== undefined) {
    const one = http.get(`${BASE_URL}/api/v1/products/${id}`, {
      headers: headers(key),
      tags: { name: 'product' },
    });
    check(one, { 'product answered': (r) => [200, 429, 503].includes(r.status) });
  }
  return ids;
}

/** POST one order for `productId` with a fresh idempotency key. */
export function checkout(key: string, productId: string): RefinedResponse<ResponseType | undefined> {
  const response = http.post(
    `${BASE_URL}/api/v1/orders`,
    JSON.stringify({ items: [{ productId, quantity: 1 }] }),
    { headers: headers(key, { 'idempotency-key': idempotencyKey() }), tags: { name: 'checkout' } },
  );
  check(response, {
    'checkout created or refused cleanly': (r) => [201, 409, 429, 503].includes(r.status),
    'no server error': (r) => r.status < 500 || r.status === 503,
  });
  return response;
}
