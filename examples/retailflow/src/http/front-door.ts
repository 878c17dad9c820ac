import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { reportError } from '@ballast/core';
import { isLoadShedError, releaseOnResponse, type LimiterPermit } from '@ballast/resilience';
import { setRoute } from '@ballast/telemetry';
import type { RequestPriority } from '../policies.js';
import {
  API_PREFIX,
  matchRoute,
  type MatchedRoute,
  type RouteSlo,
  type RoutePriorities,
} from './route-table.js';
import type { AuthOutcome, Authenticated } from './authenticate.js';
import { authProblem } from './auth.js';

/**
 * Admission at the front door: a permit for a request of `priority` (of `tenant`, once authenticated), held until
 * its response ends, or a rejection with a `LoadShedError` when the request is shed. A `ConcurrencyLimiter` is one.
 */
export interface IngressGate {
  acquire(priority: RequestPriority, tenant?: string): Promise<LimiterPermit>;
  /**
   * Whether a request of `priority` would be admitted at all right now (no permit taken), counting a refusal as
   * shed (`ConcurrencyLimiter.screen`): asked before the request is authenticated, so what the gate would refuse
   * costs no credential check, and shed metrics and alerts still see it. Without it, every request is
   * authenticated first.
   */
  screen?(priority: RequestPriority): boolean;
}

/** An API route the front door guards: the template RED metrics and SLOs know it by. */
export interface ApiRoute {
  /** The express route template, e.g. `/api/v1/orders/:orderId`. */
  readonly template: string;
  readonly priority: RequestPriority;
}

/** A guarded request: its route in the table and the priority it is admitted with. */
interface GuardedRoute {
  readonly route: ApiRoute;
  readonly slo: RouteSlo | undefined;
}

/** Bodies up to this size are drained after a refusal rather than the connection closed. */
const DRAINED_BODY_BYTES = 16 * 1024;

/** Whether the request has no body or a declared one small enough to drain (no `Transfer-Encoding`). */
function smallBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const length = req.headers['content-length'];
  if (length === undefined) return true;
  const bytes = Number(length);
  return Number.isInteger(bytes) && bytes >= 0 && bytes <= DRAINED_BODY_BYTES;
}

function matched(method: string | undefined, url: string | undefined): MatchedRoute | undefined {
  if (method === undefined || url === undefined) return undefined;
  if (!url.startsWith(API_PREFIX)) return undefined;
  const query = url.indexOf('?');
  return matchRoute(method, url.slice(API_PREFIX.length, query < 0 ? url.length : query));
}

/**
 * The tenant API route a raw request (`method`, `url` with its query) is for, with its priority class in the route
 * table (see `API_ROUTES`), or `undefined` for anything else (ops endpoints, admin, unknown paths: the front door
 * lets those through).
 *
 * @example
 * ```ts
 * apiRoute('POST', '/api/v1/orders?x=1'); // { template: '/api/v1/orders', priority: 'critical' }
 * ```
 */
export function apiRoute(method: string | undefined, url: string | undefined): ApiRoute | undefined {
  const route = matched(method, url);
  return route === undefined ? undefined : { template: route.template, priority: route.priority };
}

/** A problem the front door answers itself: its status, headers and body (given the route template as `instance`). */
export interface AnsweredProblem {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  toBody(instance: string): unknown;
}

/** Options for {@link frontDoor}. */
export interface FrontDoorOptions {
  readonly gate: IngressGate;
  /**
   * Middleware run on a refused request before it is answered (RED metrics), as express runs them on the requests
   * it handles; each must call `next()` synchronously.
   */
  readonly instrumentation: readonly RequestHandler[];
  /** Records a refused checkout or catalog request against its SLO when the answer ends. */
  readonly slo: (which: 'checkout' | 'catalog', res: ServerResponse) => void;
  /** The body of a refusal (an RFC 9457 problem); called once per priority class, its JSON is reused. */
  readonly body: (priority: RequestPriority) => unknown;
  /**
   * The body of a refusal of a tenant's own excess (the gate's per-tenant limit: a `LoadShedError` of detail
   * `tenant-limit`), answered 429 with `Retry-After`. Without it, such a refusal is answered as the others (503).
   */
  readonly tenantLimitBody?: (priority: RequestPriority) => unknown;
  /** Its media type. */
  readonly contentType: string;
  /** `Retry-After` of a refusal, in seconds. @default 1 */
  readonly retryAfterSeconds?: number;
  /**
   * Authenticates a guarded request before it takes a permit and before its body is read; a request that fails
   * is answered here (401, or 429 when its source failed too often) and never holds capacity. Without it, every
   * request is admitted unauthenticated (express authenticates later).
   */
  readonly authenticate?: (req: IncomingMessage) => Promise<AuthOutcome>;
  /**
   * The answer to a request whose authentication failed for the service's reasons (the credential store away): a
   * problem answered here, with no second lookup of the credential by express; `undefined` hands the request to
   * express (an unexpected error, answered and logged there). Without it, every such request goes to express.
   */
  readonly authError?: (error: unknown) => AnsweredProblem | undefined;
  /** Records who authenticated on the request (for express's handlers). */
  readonly onAuthenticated?: (req: IncomingMessage, auth: Authenticated) => void;
  /**
   * Each route's priority in force on this instance (operators may override the table's at run time). Without it,
   * the table's.
   */
  readonly priorities?: RoutePriorities;
}

/**
 * Load shedding in front of express: the tenant API's requests are admitted or refused by `gate` before express
 * parses, routes or authenticates anything, so a refusal costs a fraction of what the cheapest handled request
 * does. The order is cheapest refusal first: the route's class is asked of the gate's admission signal
 * (`gate.screen`, which counts what it refuses as shed) before the credential is checked, so a class being shed costs no authentication; then the request
 * is authenticated (a failure answered 401/429 without a permit); then it takes a permit for its tenant (the gate's
 * per-tenant shares keep one tenant from holding what the others need) (the proof measured a refusal through express at about the cost of a cached catalog read). A refused request
 * still gets its RED metrics (with its route template, not `__unmatched__`) and counts against its SLO. An admitted
 * request holds its permit until the response ends: a 503 or 504 is a drop for the limit algorithm, a client that
 * left gives no sample. Everything else (ops endpoints, admin, unknown paths) goes straight to `app`.
 *
 * @example
 * ```ts
 * const server = http.createServer(frontDoor(app, { gate: limiter, instrumentation: [red], slo, body, contentType }));
 * ```
 */
export function frontDoor(app: RequestListener, options: FrontDoorOptions): RequestListener {
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const instrumentation = [...options.instrumentation];
  // The JSON of each kind of refusal, per priority class: rendered once, reused by every refusal.
  const rendered: Record<'shed' | 'tenant', Partial<Record<RequestPriority, string>>> = {
    shed: {},
    tenant: {},
  };
  const json = (
    kind: 'shed' | 'tenant',
    priority: RequestPriority,
    render: (p: RequestPriority) => unknown,
  ): string => (rendered[kind][priority] ??= JSON.stringify(render(priority)));

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    { route, slo }: GuardedRoute,
    status: number,
    headers: Readonly<Record<string, string>>,
    body: string,
  ): void => {
    let i = 0;
    const next = (): void => {
      const handler = instrumentation[i++];
      if (handler !== undefined) {
        // The instrumentation middleware reads only what node:http gives (method, socket, headers).
        handler(req as Request, res as Response, next);
        return;
      }
      try {
        setRoute(res, route.template);
        if (slo !== undefined) options.slo(slo, res);
      } catch (error) {
        reportError(error, 'retailflow: recording a refused request');
      }
      res.statusCode = status;
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      res.setHeader('Content-Type', options.contentType);
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'no-store');
      // The body was never read. A small one (a checkout's) is dropped by node:http once the answer ends and the
      // connection kept: a refusal that closed it would cost the client a new connection and the process a new
      // socket, more than the refusal itself. One of unknown or large size is not drained: close the connection.
      if (!smallBody(req)) res.setHeader('Connection', 'close');
      res.end(body);
    };
    next();
  };
  const answerProblem = (
    req: IncomingMessage,
    res: ServerResponse,
    match: GuardedRoute,
    problem: AnsweredProblem,
  ) =>
    answer(
      req,
      res,
      match,
      problem.status,
      problem.headers,
      JSON.stringify(problem.toBody(match.route.template)),
    );
  const refuse = (req: IncomingMessage, res: ServerResponse, match: GuardedRoute): void =>
    answer(
      req,
      res,
      match,
      503,
      { 'Retry-After': retryAfter },
      json('shed', match.route.priority, options.body),
    );
  const tenantLimitBody = options.tenantLimitBody;
  const refuseTenant = (req: IncomingMessage, res: ServerResponse, match: GuardedRoute): void =>
    answer(
      req,
      res,
      match,
      429,
      { 'Retry-After': retryAfter },
      json('tenant', match.route.priority, tenantLimitBody!),
    );
  const gateAdmits = (priority: RequestPriority): boolean => {
    const gate = options.gate;
    if (gate.screen === undefined) return true;
    try {
      return gate.screen(priority);
    } catch (error) {
      // A failing signal must not become an outage: the request goes on to authentication and the permit.
      reportError(error, 'retailflow: ingress admission signal failed; request let through');
      return true;
    }
  };

  const admit = (req: IncomingMessage, res: ServerResponse, match: GuardedRoute, tenant?: string): void => {
    options.gate.acquire(match.route.priority, tenant).then(
      (permit) => {
        if (res.destroyed) {
          permit.ignore(); // the client left while the request waited in the queue: do not run it
          return;
        }
        releaseOnResponse(permit, res);
        app(req, res);
      },
      (error: unknown) => {
        if (isLoadShedError(error)) {
          if (error.detail === 'tenant-limit' && tenantLimitBody !== undefined) refuseTenant(req, res, match);
          else refuse(req, res, match);
          return;
        }
        // A gate that fails must not become an outage: report it and serve the request.
        reportError(error, 'retailflow: ingress gate failed; request admitted');
        app(req, res);
      },
    );
  };

  const priorities = options.priorities;
  return (req, res) => {
    const route = matched(req.method, req.url);
    if (route === undefined) {
      app(req, res);
      return;
    }
    const match: GuardedRoute = {
      route: { template: route.template, priority: priorities ? priorities.of(route) : route.priority },
      slo: route.slo,
    };
    // The cheapest refusal first: a class the gate is shedding is refused before its credential is checked.
    if (!gateAdmits(match.route.priority)) {
      refuse(req, res, match);
      return;
    }
    const authenticate = options.authenticate;
    if (authenticate === undefined) {
      admit(req, res, match);
      return;
    }
    authenticate(req).then(
      (outcome) => {
        if (outcome.ok) {
          options.onAuthenticated?.(req, outcome.auth);
          admit(req, res, match, outcome.auth.principal.tenantId);
          return;
        }
        const problem = authProblem(outcome.failure, outcome.retryAfterMs);
        answerProblem(req, res, match, problem);
      },
      // The credential store failing is the service's problem, not the client's: a 503 answered here (the failure
      // was counted against the source), or express answers what is not known (500).
      (error: unknown) => {
        let problem: AnsweredProblem | undefined;
        try {
          problem = options.authError?.(error);
        } catch (translateError) {
          reportError(translateError, 'retailflow: translating an authentication error');
        }
        if (problem === undefined) {
          app(req, res);
          return;
        }
        answerProblem(req, res, match, problem);
      },
    );
  };
}
