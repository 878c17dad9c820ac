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
 * `/healthz` (liveness: the process answers), `/readyz` (dependencies answer and not draining; 503 otherwise),
 * `/metrics`, `/slo` (HTML) and `/api/v1/slo` (JSON). None of them is authenticated, rate-limited or shed: the
 * platform must always be able to ask.
 */
export function opsRoutes(deps: OpsDependencies): Router {
  const router = Router();
  const render = sloPageRenderer();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await deps.readiness.report();
    res.status(report.status === 'ready' ? 200 : 503).json(report);
  });
  router.get('/metrics', deps.metrics);
  router.get('/slo', (_req, res) => {
    res.type('html').send(render(deps.sloReport(), new Date(deps.clock.now())));
  });
  router.get('/api/v1/slo', (_req, res) => {
    res.json(deps.sloReport());
  });
  return router;
}
