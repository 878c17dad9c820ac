import { Router, type RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import type { Readiness } from './readiness.js';
import { sloPageRenderer } from './slo-page.js';
import type { SloReport } from './slo-view.js';

/** What the operational endpoints read. */
export interface OpsDependencies {
  readonly readiness: Readiness;
  /** Serves `/metrics` (Prometheus text exposition). */
  readonly metrics: RequestHandler;
  readonly sloReport: () => SloReport;
  readonly clock: Clock;
}

/**
 * `/healthz` (liveness: the process answers) and `/readyz` (dependencies answer and not draining; 503 otherwise;
 * a degradable dependency such as the broker down answers 200 with `status: "degraded"`),
 * on both listeners: neither authenticated, rate-limited nor shed, so the platform can always ask. They say
 * nothing about tenants.
 */
export function healthRoutes(deps: Pick<OpsDependencies, 'readiness'>): Router {
  const router = Router({ caseSensitive: true });
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await deps.readiness.report();
    res.status(report.status === 'not-ready' ? 503 : 200).json(report);
  });
  return router;
}

/**
 * `/metrics`, `/slo` (HTML) and `/api/v1/slo` (JSON), on the ops listener behind the ops token: they show
 * per-tenant traffic and the service's internals, which no tenant may read.
 */
export function opsRoutes(deps: OpsDependencies): Router {
  const router = Router({ caseSensitive: true });
  const render = sloPageRenderer();
  router.get('/metrics', deps.metrics);
  router.get('/slo', (_req, res) => {
    res.type('html').send(render(deps.sloReport(), new Date(deps.clock.now())));
  });
  router.get('/api/v1/slo', (_req, res) => {
    res.json(deps.sloReport());
  });
  return router;
}
