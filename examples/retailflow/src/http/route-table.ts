import type { RequestPriority } from '../policies.js';

/** The prefix of the tenant API; route paths in {@link API_ROUTES} are relative to it. */
export const API_PREFIX = '/api/v1';

/** The SLOs an API route can count towards (their names in `slo/retailflow.yaml` are in `SLO`). */
export type RouteSlo = 'checkout' | 'catalog';

/** One route of the tenant API, with everything known of it before any request. */
export interface RouteSpec {
  /** Stable name of the route: what `/admin/routes/:routeId/priority` takes. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Express path relative to {@link API_PREFIX}, e.g. `/orders/:orderId`. */
  readonly path: string;
  /** Its load-shedding class (`sheddable` is shed first, `critical` last), unless an operator overrides it. */
  readonly priority: RequestPriority;
  /** The SLO its answers count towards, if any. */
  readonly slo?: RouteSlo;
}

/**
 * RetailFlow's tenant API in one table: each route's method and path, its shedding priority and its SLO. The front
 * door classifies and guards by it, the SLO recorder counts by it, and the routers register its paths (a test
 * checks that the express routers and this table list the same routes). Checkout is `critical` (revenue; shed
 * last), catalog reads `sheddable` (cached, retried cheaply by clients; shed first), everything else `default`.
 * A `HEAD` request of a `GET` route is `default` and counts towards no SLO.
 *
 * @example
 * ```ts
 * router.post(API_ROUTES.checkout.path, ...front, handler);
 * ```
 */
export const API_ROUTES = {
  checkout: { id: 'checkout', method: 'POST', path: '/orders', priority: 'critical', slo: 'checkout' },
  listOrders: { id: 'listOrders', method: 'GET', path: '/orders', priority: 'default' },
  getOrder: { id: 'getOrder', method: 'GET', path: '/orders/:orderId', priority: 'default' },
  cancelOrder: { id: 'cancelOrder', method: 'DELETE', path: '/orders/:orderId', priority: 'default' },
  listProducts: {
    id: 'listProducts',
    method: 'GET',
    path: '/products',
    priority: 'sheddable',
    slo: 'catalog',
  },
  getProduct: {
    id: 'getProduct',
    method: 'GET',
    path: '/products/:productId',
    priority: 'sheddable',
    slo: 'catalog',
  },
  audit: { id: 'audit', method: 'GET', path: '/audit', priority: 'default' },
  flags: { id: 'flags', method: 'GET', path: '/flags', priority: 'default' },
  usage: { id: 'usage', method: 'GET', path: '/usage', priority: 'default' },
  invoice: { id: 'invoice', method: 'GET', path: '/invoice', priority: 'default' },
} as const satisfies Readonly<Record<string, RouteSpec>>;

/** The name of a route of {@link API_ROUTES}. */
export type RouteId = keyof typeof API_ROUTES;

/** A route matched by a request: the table's entry, the method it was called with, and its full template. */
export interface MatchedRoute {
  readonly spec: RouteSpec;
  readonly method: string;
  /** The full express template, e.g. `/api/v1/orders/:orderId` (what RED metrics and SLOs know it by). */
  readonly template: string;
  /** The class the table gives this method of the route (a `HEAD` is `default`). */
  readonly priority: RequestPriority;
  /** The SLO this method of the route counts towards (a `HEAD` counts towards none). */
  readonly slo: RouteSlo | undefined;
}

/** A path template as express matches it (case-sensitive, one segment per parameter, optional trailing slash). */
function pattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

const MATCHERS: readonly { readonly method: string; readonly path: RegExp; readonly route: MatchedRoute }[] =
  Object.values(API_ROUTES as Readonly<Record<string, RouteSpec>>).flatMap((spec) => {
    const path = pattern(spec.path);
    const template = API_PREFIX + spec.path;
    const own = { spec, method: spec.method, template, priority: spec.priority, slo: spec.slo };
    const head = { spec, method: 'HEAD', template, priority: 'default' as const, slo: undefined };
    return spec.method === 'GET'
      ? [
          { method: 'GET', path, route: own },
          { method: 'HEAD', path, route: head },
        ]
      : [{ method: spec.method, path, route: own }];
  });

/**
 * The route of the table a request is for, by its method and its path relative to {@link API_PREFIX} (no query
 * string), or `undefined` when none matches.
 *
 * @example
 * ```ts
 * matchRoute('DELETE', '/orders/o-1')?.spec.id; // 'cancelOrder'
 * ```
 */
export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  for (const m of MATCHERS) if (m.method === method && m.path.test(path)) return m.route;
  return undefined;
}

/** A route's shedding priority as in force on this instance. */
export interface RoutePriority {
  readonly routeId: string;
  readonly method: string;
  readonly path: string;
  readonly priority: RequestPriority;
  /** Whether an operator overrode the table's priority. */
  readonly override: boolean;
}

/**
 * The shedding priority of each route on this instance: the table's, unless an operator overrode it at run time
 * (`POST /admin/routes/:routeId/priority`), until cleared or the process restarts. The front door reads it on every
 * request it guards.
 *
 * @example
 * ```ts
 * const priorities = new RoutePriorities();
 * priorities.set('listOrders', 'sheddable');
 * priorities.of(API_ROUTES.listOrders); // 'sheddable'
 * ```
 */
export class RoutePriorities {
  readonly #overrides = new Map<string, RequestPriority>();

  /** Whether `routeId` names a route of the table. */
  has(routeId: string): routeId is RouteId {
    return Object.hasOwn(API_ROUTES, routeId);
  }

  /** The priority in force for a matched route (a `HEAD` keeps `default`). */
  of(route: Pick<MatchedRoute, 'spec' | 'method' | 'priority'>): RequestPriority {
    if (route.method === 'HEAD') return route.priority;
    return this.#overrides.get(route.spec.id) ?? route.priority;
  }

  /** Overrides the priority of `routeId`, or clears the override with `null`. */
  set(routeId: RouteId, priority: RequestPriority | null): RoutePriority {
    if (priority === null) this.#overrides.delete(routeId);
    else this.#overrides.set(routeId, priority);
    return this.get(routeId);
  }

  /** The priority in force for `routeId`. */
  get(routeId: RouteId): RoutePriority {
    const spec: RouteSpec = API_ROUTES[routeId];
    const override = this.#overrides.get(routeId);
    return {
      routeId,
      method: spec.method,
      path: API_PREFIX + spec.path,
      priority: override ?? spec.priority,
      override: override !== undefined,
    };
  }

  /** Every route with its priority in force. */
  list(): RoutePriority[] {
    return (Object.keys(API_ROUTES) as RouteId[]).map((id) => this.get(id));
  }
}
