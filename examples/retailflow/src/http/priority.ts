import type { Request } from 'express';
import type { RequestPriority } from '../policies.js';

/**
 * The load-shedding class of an API request: checkout is `critical` (revenue; shed last), catalog reads are
 * `sheddable` (cached, retried cheaply by clients; shed first), everything else is `default`.
 *
 * @example
 * ```ts
 * classify({ method: 'POST', path: '/orders' } as Request); // 'critical'
 * ```
 */
export function classify(req: Pick<Request, 'method' | 'path'>): RequestPriority {
  if (req.method === 'POST' && req.path === '/orders') return 'critical';
  if (req.method === 'GET' && (req.path === '/products' || req.path.startsWith('/products/')))
    return 'sheddable';
  return 'default';
}
