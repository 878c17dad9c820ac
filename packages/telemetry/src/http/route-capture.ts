/**
 * Router-aware route capture for express 5 (router 2.x). express only tells a handler the leaf route
 * (`req.route.path`) and the *matched* mount prefix (`req.baseUrl`, e.g. `/users/42`), so the mount template
 * (`/users/:id`) is lost. Ballast wraps each router layer's handler, once, the first time a request reaches the
 * router after its stack grew: mount layers push their pattern onto a per-request prefix (and pop it when the
 * sub-router falls through), route layers record `prefix + pattern`, and every layer notes an error passed to
 * `next(err)`. Nothing is patched globally: only the routers of apps whose requests pass the RED middleware.
 */

import { UNMATCHED_ROUTE } from '../catalog.js';

/** Per-request routing state kept on the request under a symbol. */
export interface RouteState {
  /** Template of the mount paths entered so far. */
  prefix: string;
  /** Full template of the route that matched, once one did. */
  route: string | undefined;
  /** Template of a path-mounted middleware that may end the response itself (e.g. `express.static`). */
  candidate: string | undefined;
  /** The first error passed to `next(err)` by a layer. */
  error: unknown;
}

type Handler = ((req: object, res: object, next: (err?: unknown) => void) => unknown) & {
  readonly stack?: unknown;
};

interface LayerLike {
  handle: Handler;
  route?: { readonly path?: unknown } | undefined;
  rawPath?: unknown;
  [WRAPPED]?: true;
}

interface RouterLike {
  readonly stack: LayerLike[];
}

// Kept off the request: adding a property to every IncomingMessage changes its shape and measurably slows node:http
// and express code that reads requests. express gives every response a `locals` object; the state lives there under
// a symbol (invisible to templates iterating `res.locals`), or, outside express, in a WeakMap.
const STATE = Symbol('ballast.telemetry.route');
const states = new WeakMap<object, RouteState>(); // keyed by the response

type Locals = Record<symbol, RouteState | undefined>;

function localsOf(res: object): Locals | undefined {
  const locals = (res as { locals?: unknown }).locals;
  return typeof locals === 'object' && locals !== null ? (locals as Locals) : undefined;
}
const WRAPPED = Symbol.for('ballast.telemetry.wrappedLayer');
/** Marks a handler that must not be wrapped (the RED middleware itself). */
export const SKIP_WRAP = Symbol.for('ballast.telemetry.skipWrap');

const wrappedLength = new WeakMap<object, number>();
let matchedRouteSymbol: symbol | null | undefined;

/** Starts route capture for one request with `state` (fresh: empty prefix, no route, candidate or error). */
export function startRouteCapture<S extends RouteState>(res: object, state: S): S {
  const locals = localsOf(res);
  if (locals) locals[STATE] = state;
  else states.set(res, state);
  return state;
}

/** Wraps layers of `router` added since the last call (and, lazily, of the routers mounted on it). */
export function instrumentRouter(router: unknown): void {
  if (!isRouter(router)) return;
  const stack = router.stack;
  if (wrappedLength.get(router) === stack.length) return;
  for (const layer of stack) wrapLayer(layer);
  wrappedLength.set(router, stack.length);
}

function isRouter(value: unknown): value is RouterLike {
  return (
    (typeof value === 'function' || typeof value === 'object') &&
    value !== null &&
    Array.isArray((value as { stack?: unknown }).stack)
  );
}

function wrapLayer(layer: LayerLike): void {
  if (layer[WRAPPED]) return;
  const original = layer.handle;
  if (typeof original !== 'function' || original.length > 3) return; // error handlers keep their arity
  if ((original as unknown as Record<symbol, unknown>)[SKIP_WRAP]) return;
  layer[WRAPPED] = true;
  if (layer.route) layer.handle = wrapRoute(layer, original);
  else if (isRouter(original)) layer.handle = wrapMount(layer, original);
  else layer.handle = wrapMiddleware(layer, original);
}

/** The route state of the request `res` answers, if route capture started for it. */
export function stateOf(res: object): RouteState | undefined {
  const locals = localsOf(res);
  return (locals ? locals[STATE] : undefined) ?? states.get(res);
}

function isRoutingSignal(err: unknown): boolean {
  return !err || err === 'route' || err === 'router';
}

/** `joinTemplate` with a one-entry memo per layer: a layer is nearly always reached with the same prefix. */
function joiner(): (prefix: string, pattern: string) => string {
  let lastPrefix: string | undefined;
  let lastPattern: string | undefined;
  let lastJoined = '';
  return (prefix, pattern) => {
    if (prefix !== lastPrefix || pattern !== lastPattern) {
      lastPrefix = prefix;
      lastPattern = pattern;
      lastJoined = joinTemplate(prefix, pattern);
    }
    return lastJoined;
  };
}

function wrapRoute(layer: LayerLike, original: Handler): Handler {
  const join = joiner();
  return function ballastRouteLayer(req, res, next) {
    const state = stateOf(res);
    if (state === undefined) return original(req, res, next);
    const previous = state.route;
    state.route = join(state.prefix, patternOf(req, layer));
    return original(req, res, (err) => {
      if (isRoutingSignal(err))
        state.route = previous; // fell through: this route did not handle it
      else state.error ??= err;
      next(err);
    });
  };
}

function wrapMount(layer: LayerLike, original: Handler): Handler {
  const join = joiner();
  return function ballastMountLayer(req, res, next) {
    instrumentRouter(original);
    const state = stateOf(res);
    if (state === undefined) return original(req, res, next);
    const previous = state.prefix;
    state.prefix = join(previous, patternOf(req, layer));
    return original(req, res, (err) => {
      state.prefix = previous;
      if (!isRoutingSignal(err)) state.error ??= err;
      next(err);
    });
  };
}

function wrapMiddleware(layer: LayerLike, original: Handler): Handler {
  const join = joiner();
  return function ballastMiddlewareLayer(req, res, next) {
    const state = stateOf(res);
    if (state === undefined) return original(req, res, next);
    const pattern = patternOf(req, layer);
    const mounted = pattern !== '/' && pattern !== '';
    const previous = state.candidate;
    if (mounted) state.candidate = join(state.prefix, pattern);
    return original(req, res, (err) => {
      if (mounted) state.candidate = previous;
      if (!isRoutingSignal(err)) state.error ??= err;
      next(err);
    });
  };
}

/** The pattern the router matched for `layer` on this request. */
function patternOf(req: object, layer: LayerLike): string {
  // router >= 2.3 records the matched alternative (for array paths) on the request before calling the layer.
  if (matchedRouteSymbol === undefined) {
    matchedRouteSymbol =
      Object.getOwnPropertySymbols(req).find((s) => s.description === 'router.tracing.matchedRoute') ?? null;
  }
  const matched = matchedRouteSymbol ? (req as Record<symbol, unknown>)[matchedRouteSymbol] : undefined;
  const raw = matched ?? layer.rawPath ?? layer.route?.path;
  if (typeof raw === 'string') return raw;
  if (raw instanceof RegExp) return String(raw);
  if (Array.isArray(raw)) return raw.map(String).join('|');
  return '';
}

/**
 * Joins a mount prefix template and a child pattern: `('/api', '/users/:id')` → `/api/users/:id`,
 * `('/api', '/')` → `/api`, `('', '/')` → `` (reported as `/`).
 *
 * @example
 * ```ts
 * joinTemplate('/api', '/users/:id'); // '/api/users/:id'
 * ```
 */
export function joinTemplate(prefix: string, pattern: string): string {
  const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (pattern === '' || pattern === '/') return base;
  return pattern.startsWith('/') ? base + pattern : `${base}/${pattern}`;
}

/** The route template to report for a finished request. */
export function templateOf(state: RouteState): string | undefined {
  const route = state.route ?? state.candidate;
  if (route === undefined) return undefined;
  return route === '' ? '/' : route;
}

/**
 * The route template of the request `res` answers, as the RED middleware labels it (`http_route`): the full
 * matched template, `__unmatched__` when no route matched (so far), or `undefined` when no RED middleware is
 * recording the request. Read it when the response finishes, e.g. for a request log line.
 *
 * @example
 * ```ts
 * import { routeOf } from '@ballast/telemetry';
 * pinoHttp({ customProps: (_req, res) => ({ route: routeOf(res) }) });
 * ```
 */
export function routeOf(res: object): string | undefined {
  const state = stateOf(res);
  return state === undefined ? undefined : (templateOf(state) ?? UNMATCHED_ROUTE);
}

/**
 * Names the route of a request that is answered before any router sees it (a load shedder or rate limiter in
 * front of express, say), so its RED metrics carry `http_route="/api/orders"` instead of `__unmatched__`. Call it
 * after the RED middleware has seen the request and before the response ends. A no-op for a response no RED
 * middleware is recording, and never overrides a route a router already matched.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { redMiddleware, setRoute } from '@ballast/telemetry';
 * http.createServer((req, res) => red(req, res, () => {
 *   setRoute(res, '/api/orders');
 *   res.writeHead(503).end();
 * }));
 * ```
 */
export function setRoute(res: object, template: string): void {
  if (typeof template !== 'string' || !template.startsWith('/')) {
    throw new TypeError(
      `setRoute: template must be a path template starting with "/", got ${JSON.stringify(template)}`,
    );
  }
  const state = stateOf(res);
  if (state !== undefined) state.route ??= template;
}
