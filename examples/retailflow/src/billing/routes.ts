import { Router, type RequestHandler } from 'express';
import { tenantOf } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { invalidRequest } from '../http/validation.js';
import { renderInvoiceHtml, renderInvoiceMarkdown } from './invoice-render.js';
import type { BillingAccount } from './quota.js';
import type { UsageReporter } from './report.js';

function periodQuery(value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || !/^\d{4}-(0[1-9]|1[0-2])$/.test(value))) {
    throw invalidRequest('`period` must be a month as `YYYY-MM`', [
      { path: 'query/period', message: 'must match YYYY-MM' },
    ]);
  }
  return value;
}

/**
 * `GET /usage?period=YYYY-MM`: the authenticated tenant's quotas, usage and projection for a period (default:
 * the current month in the tenant's time zone). `GET /invoice?period=YYYY-MM`: its invoice for the period (so far,
 * for the current one) as HTML or Markdown, by `Accept`.
 */
export function usageRoutes(
  reporter: UsageReporter,
  accountOf: (tenant: { id: string; plan: string }) => Promise<BillingAccount>,
  front: readonly RequestHandler[],
): Router {
  const router = Router();
  router.get('/usage', ...front, async (req, res) => {
    const period = periodQuery(req.query.period);
    const account = await accountOf(tenantOf(req));
    res.json(await reporter.report(account, period));
  });
  router.get('/invoice', ...front, async (req, res) => {
    const period = periodQuery(req.query.period);
    const type = req.accepts(['text/html', 'text/markdown']);
    if (type === false) {
      throw new HttpProblem(
        406,
        'not-acceptable',
        'Not acceptable',
        'Invoices are `text/html` or `text/markdown`',
      );
    }
    const tenant = tenantOf(req);
    const invoice = await reporter.invoice(await accountOf(tenant), tenant.name, period);
    res.setHeader('Vary', 'Accept');
    if (type === 'text/html') {
      res.type('text/html; charset=utf-8').send(renderInvoiceHtml(invoice));
    } else {
      res.type('text/markdown; charset=utf-8').send(renderInvoiceMarkdown(invoice));
    }
  });
  return router;
}
