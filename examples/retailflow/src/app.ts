import express, { type Express, type RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import type { Billing } from './billing/wiring.js';
import type { RetailFlowCost } from './cost/wiring.js';
import { catalogRoutes } from './catalog/routes.js';
import type { RetailFlowConfig } from './config.js';
import type { Repository } from './data/index.js';
import type { FeatureFlags } from './flags/flags.js';
import { opsAuth, tenantAuth, type OpsAuthenticator } from './http/auth.js';
import type { RequestAuthentication } from './http/authenticate.js';
import { bodyDeadline } from './http/body-deadline.js';
import type { Identity } from './identity/wiring.js';
import { requestDeadline } from './http/deadline.js';
import { HttpProblem, problemHandler } from './http/problem.js';
import type { OpenApiSchemas } from './openapi.js';
import { adminRoutes, type DeadLetterControl } from './ops/admin.js';
import { planRule } from './wiring/policies.js';
import { healthRoutes, opsRoutes, type OpsDependencies } from './ops/routes.js';
import type { Checkout } from './orders/checkout.js';
import type { CheckoutSaga } from './orders/saga.js';
import { orderRoutes } from './orders/routes.js';
import type { ServicePolicies } from './policies.js';
import { tenantRoutes } from './tenant/routes.js';

/** Everything the HTTP layer needs; `startRetailFlow` builds it from the configuration. */
export interface AppDependencies {
  readonly config: RetailFlowConfig;
  readonly clock: Clock;
  /** The store the API reads and writes (behind the storage chaos switch). */
  readonly repo: Repository;
  /** The store without chaos, for admin actions (a drill must not block switching chaos off). */
  readonly adminRepo: Repository;
  readonly policies: ServicePolicies;
  readonly checkout: Checkout;
  /** The checkout saga (cancellations start refunds through it). */
  readonly saga: CheckoutSaga;
  readonly flags: FeatureFlags;
  readonly schemas: OpenApiSchemas;
  readonly ops: OpsDependencies;
  /** The consumers' dead-letter queues, for `POST /admin/dead-letters/:queue`; unset means none. */
  readonly deadLetters?: DeadLetterControl;
  /** Middleware that runs first on every request (RED metrics, tracing). */
  readonly instrumentation: readonly RequestHandler[];
  /** Runs on every `/api/v1` request express handles (the front door records the requests it sheds). */
  readonly sloRecorder: RequestHandler;
  /** Receives errors that became a 500. */
  readonly onUnexpected: (error: unknown) => void;
  /** Maps errors of the store and the policies to problems (e.g. a full bulkhead to a 503). */
  readonly translateError: (error: unknown) => HttpProblem | undefined;
  /** Access tokens, issued API keys, revocation and scopes; unset means the tenants table's API keys only. */
  readonly identity?: Pick<Identity, 'authenticate' | 'adminRoutes'>;
  /** Plan quotas (after the rate limit) and `GET /usage`; unset means no quotas. */
  readonly billing?: Pick<Billing, 'account' | 'quota' | 'routes'>;
  /** Cost attribution: `GET /admin/cost` on the ops listener; unset means no cost report. */
  readonly cost?: Pick<RetailFlowCost, 'routes'>;
  /** Tenant authentication (API keys, and whatever authenticators are plugged in), with its failure throttle. */
  readonly authentication: RequestAuthentication;
  /** Who may use the ops listener (`/metrics`, `/slo`: observer; `/admin/*`: admin). */
  readonly opsAuthenticator: OpsAuthenticator;
}

/** Headers on every answer: no MIME sniffing, no caching of tenant data by shared caches. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-store');
  next();
};

function baseApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  // `/API/V1/ORDERS` is a 404, not a second spelling of the route: RED metrics, the SLO recorder and the front
  // door then all see one route per template.
  app.set('case sensitive routing', true);
  for (const handler of deps.instrumentation) app.use(handler);
  app.use(securityHeaders);
  return app;
}

function finish(app: Express, deps: AppDependencies): Express {
  app.use((req) => {
    throw new HttpProblem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(deps.onUnexpected, deps.translateError));
  return app;
}

/**
 * The ops listener's application, apart from the tenant API: `/healthz` and `/readyz` (open), `/metrics`, `/slo`
 * and `/api/v1/slo` (the ops token), and `/admin/*` (the admin key). It listens on loopback by default.
 *
 * @example
 * ```ts
 * http.createServer(createOpsApp(dependencies)).listen(3002, '127.0.0.1');
 * ```
 */
export function createOpsApp(deps: AppDependencies): Express {
  const app = baseApp(deps);
  const throttle = deps.authentication;
  app.use(healthRoutes(deps.ops));
  const json = express.json({ limit: deps.config.bodyLimitBytes, strict: true });
  // API keys and revocations: their own authorization (an access token with the admin scope, or the admin key in
  // development), so operators need no shared static secret for them.
  if (deps.identity) {
    app.use(
      '/admin/identity',
      bodyDeadline(deps.clock, deps.config.bodyTimeoutMs),
      json,
      deps.identity.adminRoutes,
    );
  }
  app.use(
    '/admin',
    opsAuth(deps.opsAuthenticator, 'admin', throttle),
    bodyDeadline(deps.clock, deps.config.bodyTimeoutMs),
    json,
    adminRoutes(
      deps.policies.chaos,
      deps.adminRepo,
      deps.schemas,
      deps.flags,
      deps.policies.breakers,
      {
        overrides: deps.policies.tenantLimits,
        planLimit: (plan) => planRule(plan, deps.config).limit,
      },
      deps.policies.routePriorities,
      deps.deadLetters,
    ),
    ...(deps.cost ? [deps.cost.routes(deps.adminRepo)] : []),
  );
  app.use(opsAuth(deps.opsAuthenticator, 'observer', throttle), opsRoutes(deps.ops));
  return finish(app, deps);
}

/**
 * Builds the public express application: `/healthz` and `/readyz` (for load balancers), and the tenant API under
 * `/api/v1` with, in order: SLO recording, the draining guard, then on every route the request deadline, tenant
 * authentication, the per-tenant rate limit, the body deadline and the JSON body parser (size limit). Adaptive
 * load shedding by priority class and authentication run first, in the front door `startRetailFlow` puts in
 * front of it. Metrics, SLO pages and admin live on the ops listener ({@link createOpsApp}). Errors are RFC 9457
 * problem details.
 *
 * @example
 * ```ts
 * const app = createApp(dependencies);
 * app.listen(3000);
 * ```
 */
export function createApp(deps: AppDependencies): Express {
  const app = baseApp(deps);
  app.use(healthRoutes(deps.ops));

  const json = express.json({ limit: deps.config.bodyLimitBytes, strict: true });
  const api = express.Router({ caseSensitive: true });
  api.use(deps.sloRecorder);
  api.use((_req, res, next) => {
    if (deps.ops.readiness.closed) {
      res.setHeader('Connection', 'close');
      throw new HttpProblem(503, 'draining', 'Service unavailable', 'The service is shutting down', {
        headers: { 'Retry-After': '1' },
      });
    }
    next();
  });
  // Load shedding and authentication happen before express (see frontDoor). The per-request chain runs inside
  // each route (not as router-level middleware) so that everything it answers (401, 429, 413) is labelled with
  // the route in RED metrics. The body is read last: only an authenticated tenant within its rate limit gets
  // its body read, and only for as long as the body deadline allows.
  const front: RequestHandler[] = [
    requestDeadline(deps.clock, deps.config.requestTimeoutMs, deps.config.minRequestDeadlineMs),
    // The front door authenticated the credential; identity re-reads it for the route's scope and the audit actor.
    deps.identity?.authenticate ?? tenantAuth(deps.authentication),
    ...(deps.billing ? [deps.billing.account] : []),
    deps.policies.rateLimit,
    ...(deps.billing ? [deps.billing.quota] : []),
    bodyDeadline(deps.clock, deps.config.bodyTimeoutMs),
    json,
  ];
  api.use(catalogRoutes(deps.repo, deps.policies, deps.flags, front));
  api.use(orderRoutes(deps.repo, deps.checkout, deps.saga, deps.schemas, front));
  api.use(tenantRoutes(deps.repo, deps.flags, front));
  if (deps.billing) api.use(deps.billing.routes(front));
  app.use('/api/v1', api);
  return finish(app, deps);
}
