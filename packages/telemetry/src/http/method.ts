import { OTHER_METHOD } from '../catalog.js';

const KNOWN = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/**
 * Normalizes an HTTP method for the `http_request_method` label: the known methods of the HTTP semantic
 * conventions pass through (upper-cased), anything else becomes `_OTHER`, so a client cannot create series.
 *
 * @example
 * ```ts
 * import { normalizeMethod } from '@ballast/telemetry';
 * normalizeMethod('get'); // 'GET'
 * normalizeMethod('PURGE'); // '_OTHER'
 * ```
 */
export function normalizeMethod(method: string | undefined): string {
  if (method === undefined) return OTHER_METHOD;
  if (KNOWN.has(method)) return method;
  const upper = method.toUpperCase();
  return KNOWN.has(upper) ? upper : OTHER_METHOD;
}
