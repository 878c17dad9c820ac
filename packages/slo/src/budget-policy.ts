import { checkNumber, invalidOption } from '@ballast/core';

/**
 * The error-budget policy state of an SLO, from least to most restrictive.
 * @example
 * ```ts
 * const state: BudgetPolicyState = engine.policy('checkout-availability');
 * ```
 */
export type BudgetPolicyState = 'ok' | 'warning' | 'exhausted';

/**
 * Thresholds on the remaining share of the error budget.
 *
 * @example
 * ```ts
 * const strict: BudgetPolicy = { warning: 0.5, exhausted: 0.1 };
 * ```
 */
export interface BudgetPolicy {
  /** `warning` when the remaining ratio is at or below this. @default 0.25 */
  readonly warning?: number;
  /** `exhausted` when the remaining ratio is at or below this. @default 0 */
  readonly exhausted?: number;
}

/**
 * {@link BudgetPolicy} with defaults applied.
 * @example
 * ```ts
 * const policy: ResolvedBudgetPolicy = resolveBudgetPolicy({ warning: 0.5 });
 * ```
 */
export interface ResolvedBudgetPolicy {
  readonly warning: number;
  readonly exhausted: number;
}

const ORDER: Readonly<Record<BudgetPolicyState, number>> = { ok: 0, warning: 1, exhausted: 2 };

/**
 * Validates a {@link BudgetPolicy} and fills in the defaults (`warning` 0.25, `exhausted` 0).
 *
 * @example
 * ```ts
 * import { resolveBudgetPolicy } from '@ballast/slo';
 * resolveBudgetPolicy({ warning: 0.5 }); // { warning: 0.5, exhausted: 0 }
 * ```
 */
export function resolveBudgetPolicy(policy: BudgetPolicy = {}): ResolvedBudgetPolicy {
  if (typeof policy !== 'object' || policy === null) {
    throw invalidOption('budgetPolicy', 'an object { warning?, exhausted? }', policy);
  }
  const warning = checkNumber('budgetPolicy.warning', policy.warning, 0.25, { min: -1e9, max: 1 });
  const exhausted = checkNumber('budgetPolicy.exhausted', policy.exhausted, 0, { min: -1e9, max: 1 });
  if (exhausted > warning) {
    throw invalidOption('budgetPolicy.exhausted', `a number <= budgetPolicy.warning (${warning})`, exhausted);
  }
  return { warning, exhausted };
}

/**
 * The policy state for a remaining budget ratio: `exhausted` at or below `exhausted`, `warning` at or below
 * `warning`, `ok` above.
 *
 * @example
 * ```ts
 * import { budgetPolicyState } from '@ballast/slo';
 * budgetPolicyState(0.2, { warning: 0.25, exhausted: 0 }); // 'warning'
 * ```
 */
export function budgetPolicyState(remainingRatio: number, policy: ResolvedBudgetPolicy): BudgetPolicyState {
  if (remainingRatio <= policy.exhausted) return 'exhausted';
  if (remainingRatio <= policy.warning) return 'warning';
  return 'ok';
}

/**
 * True when `state` is no worse than `worstAllowed`: gate risky work on it. A risky feature flag might need
 * `'ok'`; a routine deploy might go ahead on `'warning'`.
 *
 * @example
 * ```ts
 * import { budgetAllows } from '@ballast/slo';
 * if (!budgetAllows(engine.status('checkout-availability').policy, 'warning')) throw new Error('deploy frozen');
 * ```
 */
export function budgetAllows(state: BudgetPolicyState, worstAllowed: BudgetPolicyState): boolean {
  return ORDER[state] <= ORDER[worstAllowed];
}
