import type { Request } from 'express';
import type { RequestPriority } from '../policies.js';
import { matchRoute } from './route-table.js';

/**
 * The load-shedding class the route table (`API_ROUTES`) gives an API request (path relative to `/api/v1`):
 * checkout is `critical`, catalog reads `sheddable`, everything else (and any path outside the table) `default`.
 * Operators may override a route's class at run time (`POST /admin/routes/:routeId/priority`); this answers the
 * table's.
 *
 * @example
 * ```ts
 * classify({ method: 'POST', path: '/orders' } as Request); // 'critical'
 * ```
 */
export function classify(req: Pick<Request, 'method' | 'path'>): RequestPriority {
  return matchRoute(req.method, req.path)?.priority ?? 'default';
}
