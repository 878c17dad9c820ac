import { Router, type RequestHandler } from 'express';
import type { Repository } from '../data/index.js';
import type { FeatureFlags } from '../flags/flags.js';
import { tenantOf } from '../http/context.js';
import { API_ROUTES } from '../http/route-table.js';
import { presentAudit } from '../http/present.js';
import { pageQuery } from '../http/validation.js';

/** `GET /audit` (the tenant's append-only log, with system-wide admin actions) and `GET /flags`. */
export function tenantRoutes(
  repo: Repository,
  flags: FeatureFlags,
  front: readonly RequestHandler[],
): Router {
  const router = Router({ caseSensitive: true });
  router.get(API_ROUTES.audit.path, ...front, async (req, res) => {
    const page = await repo.listAudit(tenantOf(req).id, { ...pageQuery(req), includeSystem: true });
    res.json({ items: page.items.map(presentAudit), nextCursor: page.nextCursor });
  });
  router.get(API_ROUTES.flags.path, ...front, async (req, res) => {
    res.json({ flags: flags.all(await repo.listFlagOverrides(tenantOf(req).id)) });
  });
  return router;
}
