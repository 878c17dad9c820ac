import { Router, type RequestHandler } from 'express';
import { tenantOf } from '../http/context.js';
import { invalidRequest } from '../http/validation.js';
import type { BillingAccount } from './quota.js';
import type { UsageReporter } from './report.js';

/**
 * `GET /usage?period=YYYY-MM`: the authenticated tenant's quotas, usage and projection for a period (default:
 * the current month in the tenant's time zone).
 */
export function usageRoutes(
  reporter: UsageReporter,
  accountOf: (tenant: { id: string; plan: string }) => Promise<BillingAccount>,
  front: readonly RequestHandler[],
): Router {
  const router = Router();
  router.get('/usage', ...front, async (req, res) => {
    const period = req.query.period;
    if (period !== undefined && (typeof period !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(period))) {
      throw invalidRequest('`period` must be a month as `YYYY-MM`', [
        { path: 'query/period', message: 'must match YYYY-MM' },
      ]);
    }
    const account = await accountOf(tenantOf(req));
    res.json(await reporter.report(account, period));
  });
  return router;
}
