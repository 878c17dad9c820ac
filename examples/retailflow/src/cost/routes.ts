import { Router, type Request } from 'express';
import type { Repository } from '../data/index.js';
import { contextOf } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { renderCostHtml, renderCostMarkdown } from './render.js';
import type { CostReport } from './report.js';

/**
 * `GET /admin/cost` (behind the ops listener's admin authentication): the cost report of this instance as JSON,
 * or for a manager as `text/markdown` or `text/html` (by `Accept`). `POST /admin/cost/reset` starts a new window and answers its start (`{ from }`)
 * (audited as `cost.reset`; the Prometheus counters keep counting).
 */
export function costRoutes(
  report: () => Promise<CostReport>,
  /** Starts a new window; answers its start (epoch ms). */
  reset: () => number,
  repo: Pick<Repository, 'appendAudit'>,
): Router {
  const router = Router({ caseSensitive: true });
  router.get('/cost', async (req, res) => {
    const type = req.accepts(['application/json', 'text/markdown', 'text/html']);
    if (type === false) {
      throw new HttpProblem(
        406,
        'not-acceptable',
        'Not acceptable',
        'The cost report is `application/json`, `text/markdown` or `text/html`',
      );
    }
    const body = await report();
    res.setHeader('Vary', 'Accept');
    if (type === 'text/html') res.type('text/html; charset=utf-8').send(renderCostHtml(body));
    else if (type === 'text/markdown')
      res.type('text/markdown; charset=utf-8').send(renderCostMarkdown(body));
    else res.json(body);
  });
  router.post('/cost/reset', async (req, res) => {
    const from = new Date(reset()).toISOString();
    await repo.appendAudit({
      tenantId: null,
      actor: actorOf(req),
      action: 'cost.reset',
      targetType: 'cost',
      targetId: 'window',
      details: { from },
    });
    res.json({ from });
  });
  return router;
}

function actorOf(req: Request): string {
  return contextOf(req).operator?.subject ?? 'admin';
}
