/**
 * Reads how long a failed call asked us to wait, in milliseconds, from the error: `retryAfterMs` (a number), or an
 * HTTP `Retry-After` value in `retryAfter`, `headers['retry-after']`, `headers.get('retry-after')` or
 * `response.headers` — either delay-seconds (`"120"`) or an HTTP-date (`"Wed, 21 Oct 2015 07:28:00 GMT"`,
 * measured against `now`). Returns `undefined` when there is none or it cannot be read.
 *
 * @example
 * ```ts
 * import { retryAfterMs } from '@ballast/resilience';
 * retryAfterMs({ headers: { 'retry-after': '3' } }, Date.now()); // 3000
 * ```
 */
export function retryAfterMs(error: unknown, now: number): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as {
    retryAfterMs?: unknown;
    retryAfter?: unknown;
    headers?: unknown;
    response?: { headers?: unknown };
  };
  if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs))
    return Math.max(0, e.retryAfterMs);
  const raw = e.retryAfter ?? header(e.headers) ?? header(e.response?.headers);
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.max(0, raw * 1000) : undefined;
  return typeof raw === 'string' ? parseRetryAfter(raw, now) : undefined;
}

function header(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function')
    return (get as (n: string) => unknown).call(headers, 'retry-after') ?? undefined;
  const value = (headers as Record<string, unknown>)['retry-after'];
  return Array.isArray(value) ? (value[0] as unknown) : value;
}

/**
 * Parses an HTTP `Retry-After` header value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Returns milliseconds
 * from `now`, clamped at 0, or `undefined` when the value is neither.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from '@ballast/resilience';
 * parseRetryAfter('120', 0); // 120000
 * ```
 */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
