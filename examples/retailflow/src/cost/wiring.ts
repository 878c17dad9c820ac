import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Router } from 'express';
import type { MetricsRegistry } from '@ballast/telemetry';
import { reportError, type Clock } from '@ballast/core';
import type { Policy } from '@ballast/resilience';
import type { Billing } from '../billing/wiring.js';
import type { RetailFlowConfig } from '../config.js';
import type { Repository, SqlDriver } from '../data/index.js';
import { contextOf } from '../http/context.js';
import { CostAttribution } from './attribution.js';
import { CostMeter } from './meter.js';
import { DEFAULT_PRICE_SHEET, loadPriceSheet, type PriceSheet } from './price-sheet.js';
import {
  MEASURED_LEVER_EFFECTS,
  priceCosts,
  retailFlowLevers,
  type CostReport,
  type LeverEffects,
  type TenantRevenue,
} from './report.js';
import { windowRevenue } from './revenue.js';
import { costRoutes } from './routes.js';

/** RetailFlow's cost attribution: the meter, its middleware, the report and its admin routes. */
export interface RetailFlowCost {
  readonly meter: CostMeter;
  readonly prices: PriceSheet;
  /** Express middleware recording each request's cost (a no-op with `COST_ATTRIBUTION=false`). */
  readonly middleware: RequestHandler;
  /** The cost report of this instance since its start (or the last reset). */
  report(): Promise<CostReport>;
  /** `GET /admin/cost`, `POST /admin/cost/reset` (mount behind admin authentication). */
  routes(repo: Pick<Repository, 'appendAudit'>): Router;
  close(): void;
}

/**
 * Builds cost attribution: a {@link CostMeter} on the telemetry registry, the attribution middleware and driver
 * timing, the price sheet (`COST_PRICE_SHEET`, or the example sheet), and the report reading revenue from billing.
 *
 * @example
 * ```ts
 * const cost = createCost({ config, clock, registry: telemetry.metrics.prom, driver, billing, repo, policies: [] });
 * ```
 */
export function createCost(options: {
  readonly config: RetailFlowConfig;
  readonly clock: Clock;
  readonly registry: MetricsRegistry['prom'];
  readonly driver: SqlDriver;
  readonly billing: Pick<Billing, 'plans' | 'ledger' | 'quotas' | 'accounts'>;
  readonly repo: Pick<Repository, 'listTenants'>;
  /** Policies to find the catalog cache among (its hit ratio feeds the catalog lever). */
  readonly policies: readonly Policy[];
  /** Measured lever effects to quote in the report. @default MEASURED_LEVER_EFFECTS (the proof's) */
  readonly effects?: LeverEffects;
}): RetailFlowCost {
  const { config, clock, billing } = options;
  const prices =
    config.costPriceSheet === undefined ? DEFAULT_PRICE_SHEET : loadPriceSheet(config.costPriceSheet);
  for (const plan of Object.values(billing.plans)) {
    if (plan.currency !== prices.currency) {
      throw new TypeError(
        `Expected the price sheet's currency to be the plans' (${plan.currency}), got \`${prices.currency}\``,
      );
    }
  }
  const meter = new CostMeter({ clock, registry: options.registry, maxTenants: config.costMaxTenants });
  const attribution = config.costAttribution
    ? new CostAttribution({
        meter,
        tenantOf: (req: IncomingMessage) => contextOf(req as Request).tenant?.id,
        sampleRate: config.costSampleRate,
        inProcessDatabase: options.driver.dialect === 'sqlite',
      })
    : undefined;
  if (attribution) attribution.instrumentDriver(options.driver);

  let hits = 0;
  let lookups = 0;
  const subscriptions = options.policies
    .filter((p) => p.name === 'catalog-cache')
    .map((p) =>
      p.onEvent((event) => {
        if (event.type !== 'cache') return;
        lookups++;
        if (event.result !== 'miss') hits++;
      }),
    );
  const levers = retailFlowLevers(() => (lookups > 0 ? hits / lookups : null));

  const report = async (): Promise<CostReport> => {
    const snapshot = meter.snapshot();
    const calls = new Map<string, number>();
    for (const row of snapshot.rows) calls.set(row.tenant, (calls.get(row.tenant) ?? 0) + row.requests);
    const revenues = new Map<string, TenantRevenue>();
    for (const tenant of await options.repo.listTenants()) {
      try {
        const account = await billing.accounts.get(tenant.id, tenant.plan);
        const revenue = await windowRevenue({
          account,
          plans: billing.plans,
          ledger: billing.ledger,
          quotas: billing.quotas,
          from: snapshot.from,
          to: snapshot.to,
          callsInWindow: calls.get(tenant.id) ?? 0,
        });
        revenues.set(tenant.id, { tenantId: tenant.id, name: tenant.name, plan: account.plan, revenue });
      } catch (error) {
        reportError(error, `retailflow: revenue of tenant ${tenant.id} for the cost report`);
      }
    }
    return priceCosts(snapshot, prices, revenues, {
      levers,
      effects: options.effects ?? MEASURED_LEVER_EFFECTS,
    });
  };

  return {
    meter,
    prices,
    middleware: attribution ? attribution.middleware : (_req, _res, next) => next(),
    report,
    routes: (repo) =>
      costRoutes(
        report,
        () => {
          meter.reset();
          return meter.snapshot().from;
        },
        repo,
      ),
    close: () => {
      attribution?.close();
      for (const s of subscriptions) s.dispose();
    },
  };
}
