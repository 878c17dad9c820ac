import type { Request, RequestHandler } from 'express';
import { reportError, type Clock } from '@ballast/core';
import { contextOf } from '../http/context.js';
import { HttpProblem } from '../http/problem.js';
import { periodAt, type BillingPeriod } from './period.js';
import type { PlanCatalog, PlanId, QuotaName } from './plans.js';
import type { QuotaStore } from './quota-store.js';

/** Who is billed and how: a tenant's plan and the time zone its months are counted in. */
export interface BillingAccount {
  readonly tenantId: string;
  readonly plan: PlanId;
  readonly timeZone: string;
}

/** The outcome of one {@link QuotaEnforcer.consume}. */
export interface QuotaDecision {
  readonly admitted: boolean;
  readonly quota: QuotaName;
  readonly included: number;
  /** Units counted this period, this call's included when admitted. */
  readonly used: number;
  readonly period: BillingPeriod;
  /** Whether the units were admitted past the quota as billed overage. */
  readonly overage: boolean;
  /** Whether the store failed and the call was admitted without being counted. */
  readonly uncounted: boolean;
}

/** Options of {@link QuotaEnforcer}. */
export interface QuotaEnforcerOptions {
  readonly store: QuotaStore;
  readonly plans: PlanCatalog;
  readonly clock: Clock;
  /** Receives store failures (the call is then admitted uncounted). @default reportError */
  readonly onStoreError?: (error: unknown) => void;
  /** How long counters outlive their period, for the usage API's look back, in ms. @default 40 days */
  readonly retainMs?: number;
}

/**
 * Period quotas (calendar months in the tenant's time zone) counted in a shared {@link QuotaStore}.
 *
 * Overshoot bound: **0** units per quota and period while the store answers. The store checks and counts in one
 * atomic step (a Lua script in Redis, a synchronous section in memory), so two instances racing for the last
 * unit cannot both take it, whatever the concurrency. Units given back by {@link QuotaEnforcer.release} (a checkout
 * replayed or refused) can make a racing call see the quota full for the length of the request that held them:
 * that errs towards refusing, never towards overshoot. While the store fails, calls are admitted and not counted
 * (a quota outage must not become a checkout outage): overshoot is then at most the calls admitted during the
 * outage, which {@link QuotaDecision.uncounted} marks. Orders are metered in the database whatever happens here,
 * so billing stays exact; only the hard stop loosens.
 *
 * @example
 * ```ts
 * const quotas = new QuotaEnforcer({ store: new MemoryQuotaStore(), plans: PLANS, clock: systemClock });
 * const decision = await quotas.consume(account, 'orders');
 * ```
 */
export class QuotaEnforcer {
  readonly #store: QuotaStore;
  readonly #plans: PlanCatalog;
  readonly #clock: Clock;
  readonly #onStoreError: (error: unknown) => void;
  readonly #retainMs: number;

  constructor(options: QuotaEnforcerOptions) {
    this.#store = options.store;
    this.#plans = options.plans;
    this.#clock = options.clock;
    this.#onStoreError = options.onStoreError ?? ((error) => reportError(error, 'retailflow: quota store'));
    this.#retainMs = options.retainMs ?? 40 * 86_400_000;
  }

  /** The store key of a tenant's counter for a quota and period. */
  static key(tenantId: string, quota: QuotaName, period: BillingPeriod): string {
    return `${tenantId}:${quota}:${period.id}`;
  }

  /** Counts `amount` units of `quota` for `account` unless its plan blocks them past the quota. */
  async consume(account: BillingAccount, quota: QuotaName, amount = 1): Promise<QuotaDecision> {
    const plan = this.#plans[account.plan];
    const rule = plan.quotas[quota];
    const period = periodAt(this.#clock.now(), account.timeZone);
    const limit = rule.overage.kind === 'block' ? rule.included : Infinity;
    const base = { quota, included: rule.included, period };
    try {
      const result = await this.#store.consume(
        QuotaEnforcer.key(account.tenantId, quota, period),
        amount,
        limit,
        period.end + this.#retainMs - this.#clock.now(),
      );
      return {
        ...base,
        admitted: result.admitted,
        used: result.used,
        overage: result.admitted && result.used > rule.included,
        uncounted: false,
      };
    } catch (error) {
      this.#onStoreError(error);
      return { ...base, admitted: true, used: 0, overage: false, uncounted: true };
    }
  }

  /** Gives back units consumed in `period` (a call that turned out not to be billable). Never throws. */
  async release(account: BillingAccount, quota: QuotaName, period: BillingPeriod, amount = 1): Promise<void> {
    try {
      await this.#store.release(QuotaEnforcer.key(account.tenantId, quota, period), amount);
    } catch (error) {
      this.#onStoreError(error);
    }
  }

  /** The counter of a quota in a period (0 when the store does not answer). */
  async used(account: BillingAccount, quota: QuotaName, period: BillingPeriod): Promise<number> {
    try {
      return await this.#store.read(QuotaEnforcer.key(account.tenantId, quota, period));
    } catch (error) {
      this.#onStoreError(error);
      return 0;
    }
  }
}

const POLICY_NAMES: Readonly<Record<QuotaName, string>> = { orders: 'orders-month', apiCalls: 'calls-month' };
const LABELS: Readonly<Record<QuotaName, string>> = { orders: 'orders', apiCalls: 'API calls' };

/**
 * The 429 for a refused quota: an RFC 9457 problem naming the quota, the plan and when it resets, with the IETF
 * `RateLimit-Policy`/`RateLimit` fields (draft 08: `"orders-month";q=100;w=...` and `r=0;t=<seconds to reset>`)
 * and `Retry-After`.
 */
export function quotaProblem(account: BillingAccount, decision: QuotaDecision, now: number): HttpProblem {
  const { period, quota } = decision;
  const resetsIn = Math.max(1, Math.ceil((period.end - now) / 1000));
  const window = Math.ceil((period.end - period.start) / 1000);
  const name = POLICY_NAMES[quota];
  const resetsAt = new Date(period.end).toISOString();
  return new HttpProblem(
    429,
    'quota-exceeded',
    'Quota exceeded',
    `The ${account.plan} plan includes ${decision.included} ${LABELS[quota]} per month (${period.id}, ${period.timeZone}); ` +
      `the quota resets at ${resetsAt}. Upgrade the plan for billed overage instead of a stop.`,
    {
      extensions: {
        quota,
        plan: account.plan,
        included: decision.included,
        used: decision.used,
        period: period.id,
        resetsAt,
      },
      headers: {
        'RateLimit-Policy': `"${name}";q=${decision.included};w=${window}`,
        RateLimit: `"${name}";r=0;t=${resetsIn}`,
        'Retry-After': String(resetsIn),
      },
    },
  );
}

/** Whether a finished checkout response created an order (a fresh 201): anything else gives its unit back. */
function placedOrder(req: Request, status: number, replayed: boolean): boolean {
  return req.method === 'POST' && status === 201 && !replayed;
}

/**
 * Middleware for the tenant API, after authentication and the rate limit: counts one API call per request and,
 * on `POST /orders`, one order, refusing with {@link quotaProblem} when a blocking quota is used up. An order unit
 * is given back when the response is not a freshly created order (an idempotent replay, a refused or failed
 * checkout): orders are billed by the meter in the order's transaction, and the quota follows what is billed.
 * A replay of a placed order passes a full quota (see `isReplay`), so a checkout that failed with a 5xx but left
 * its order behind (pending, for a replay to complete) keeps its unit.
 *
 * @example
 * ```ts
 * const front = [json, deadline, auth, rateLimit, quotaMiddleware(enforcer, accountOf, clock)];
 * ```
 */
export function quotaMiddleware(
  enforcer: QuotaEnforcer,
  accountOf: (tenant: { id: string; plan: string }) => Promise<BillingAccount>,
  clock: Clock,
  /**
   * Whether a checkout refused by the orders quota replays an order placed earlier (its `Idempotency-Key` is
   * known): a replay answers what the key first produced and costs no unit. Asked only on refusal.
   */
  isReplay: (req: Request, tenantId: string) => Promise<boolean> = () => Promise.resolve(false),
  /**
   * Whether a checkout that failed with a 5xx left its order pending (its `Idempotency-Key` names an order not yet
   * confirmed nor failed): a replay will complete it, so its unit is kept.
   */
  leftPending: (req: Request, tenantId: string) => Promise<boolean> = () => Promise.resolve(false),
): RequestHandler {
  return (req, res, next) => {
    const tenant = contextOf(req).tenant;
    if (!tenant) {
      next();
      return;
    }
    const checkout =
      req.method === 'POST' && (req.route as { path?: unknown } | undefined)?.path === '/orders';
    void (async () => {
      const account = await accountOf(tenant);
      const call = await enforcer.consume(account, 'apiCalls');
      if (!call.admitted) throw quotaProblem(account, call, clock.now());
      if (!checkout) return;
      const order = await enforcer.consume(account, 'orders');
      if (!order.admitted) {
        if (await isReplay(req, tenant.id)) return;
        throw quotaProblem(account, order, clock.now());
      }
      if (order.uncounted) return;
      res.once('finish', () => {
        const replayed = res.getHeader('Idempotent-Replayed') === 'true';
        if (placedOrder(req, res.statusCode, replayed)) return;
        // A checkout that failed server-side (a 5xx) may have left its order pending, which a replay of its key
        // completes later, past a full quota (replays pass): its unit is kept. Refusals (4xx), replays and failed
        // payments bill nothing and give theirs back.
        const mayHaveCreated = res.statusCode >= 500 && !replayed;
        void (mayHaveCreated ? leftPending(req, tenant.id) : Promise.resolve(false)).then(
          (created) => (created ? undefined : enforcer.release(account, 'orders', order.period)),
          () => enforcer.release(account, 'orders', order.period),
        );
      });
    })().then(() => next(), next);
  };
}
