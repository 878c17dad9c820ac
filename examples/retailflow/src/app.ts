import express, { type Express, type RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import type { Billing } from './billing/wiring.js';
import { catalogRoutes } from './catalog/routes.js';
import type { RetailFlowConfig } from './config.js';
import type { Repository } from './data/index.js';
import type { FeatureFlags } from './flags/flags.js';
import { tenantAuth } from './http/auth.js';
import type { Identity } from './identity/wiring.js';
import { requestDeadline } from './http/deadline.js';
import { HttpProblem, problemHandler } from './http/problem.js';
import type { OpenApiSchemas } from './openapi.js';
import { adminRoutes } from './ops/admin.js';
import { opsRoutes, type OpsDependencies } from './ops/routes.js';
import type { Checkout } from './orders/checkout.js';
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
  readonly flags: FeatureFlags;
  readonly schemas: OpenApiSchemas;
  readonly ops: OpsDependencies;
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
  readonly billing?: Pick<Billing, 'quota' | 'routes'>;
}

/**
 * Builds the express application: ops endpoints (never shed or authenticated), admin endpoints (admin key), and
 * the tenant API under `/api/v1` with, in order: SLO recording, the draining guard, then on every route the JSON
 * body parser (size limit), the request deadline, tenant authentication and the per-tenant rate limit. Adaptive
 * load shedding by priority class runs before express, in the front door `startRetailFlow` puts in front of it.
 * Errors are RFC 9457 problem details.
 *
 * @example
 * ```ts
 * const app = createApp(dependencies);
 * app.listen(3000);
 * ```
 */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  for (const handler of deps.instrumentation) app.use(handler);

  app.use(opsRoutes(deps.ops));

  const json = express.json({ limit: deps.config.bodyLimitBytes, strict: true });
  if (deps.identity) app.use('/admin/identity', json, deps.identity.adminRoutes);
  app.use(
    '/admin',
    json,
    adminRoutes(
      deps.config.adminKey,
      deps.policies.chaos,
      deps.adminRepo,
      deps.schemas,
      deps.flags,
      deps.policies.breakers,
    ),
  );

  const api = express.Router();
  api.use(deps.sloRecorder);
  api.use((_req, res, next) => {
    if (deps.ops.readiness.draining) {
      res.setHeader('Connection', 'close');
      throw new HttpProblem(503, 'draining', 'Service unavailable', 'The service is shutting down', {
        headers: { 'Retry-After': '1' },
      });
    }
    next();
  });
  // Load shedding happens before express (see frontDoor). The per-request chain runs inside each route (not as
  // router-level middleware) so that everything it answers (401, 429, 413) is labelled with the route in RED
  // metrics.
  const front: RequestHandler[] = [
    json,
    requestDeadline(deps.clock, deps.config.requestTimeoutMs),
    deps.identity?.authenticate ?? tenantAuth(deps.repo, deps.policies.tenantLookup),
    deps.policies.rateLimit,
    ...(deps.billing ? [deps.billing.quota] : []),
  ];
  api.use(catalogRoutes(deps.repo, deps.policies, deps.flags, front));
  api.use(orderRoutes(deps.repo, deps.checkout, deps.schemas, front));
  api.use(tenantRoutes(deps.repo, deps.flags, front));
  if (deps.billing) api.use(deps.billing.routes(front));
  app.use('/api/v1', api);

  app.use((req) => {
    throw new HttpProblem(404, 'not-found', 'Not found', `No route for ${req.method} ${req.path}`);
  });
  app.use(problemHandler(deps.onUnexpected, deps.translateError));
  return app;
}
