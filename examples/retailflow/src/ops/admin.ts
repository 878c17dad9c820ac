import { Router } from 'express';
import type { Repository } from '../data/index.js';
import { adminAuth } from '../http/auth.js';
import { jsonBody } from '../http/validation.js';
import type { OpenApiSchemas } from '../openapi.js';
import type { ChaosControl, ChaosTarget } from '../policies.js';

interface ChaosRequest {
  readonly target: ChaosTarget;
  readonly enabled: boolean;
  readonly latencyMs?: number;
  readonly errorRate?: number;
}

/**
 * `GET /admin/chaos` and `POST /admin/chaos` (admin key): switch fault injection on the payment calls or the
 * storage at run time, for drills. Every change is written to the audit log as a system-wide `chaos.set` entry.
 */
export function adminRoutes(
  adminKey: string,
  chaos: ChaosControl,
  repo: Pick<Repository, 'appendAudit'>,
  schemas: OpenApiSchemas,
): Router {
  const router = Router();
  router.use(adminAuth(adminKey));
  router.get('/chaos', (_req, res) => {
    res.json(chaos.get());
  });
  router.post('/chaos', jsonBody(schemas, 'ChaosRequest'), async (req, res) => {
    const body = req.body as ChaosRequest;
    const previous = chaos.get()[body.target];
    const next = {
      enabled: body.enabled,
      latencyMs: body.latencyMs ?? previous.latencyMs,
      errorRate: body.errorRate ?? previous.errorRate,
    };
    chaos.set(body.target, next);
    await repo.appendAudit({
      tenantId: null,
      actor: 'admin',
      action: 'chaos.set',
      targetType: 'chaos',
      targetId: body.target,
      details: { ...next },
    });
    res.json(chaos.get());
  });
  return router;
}
