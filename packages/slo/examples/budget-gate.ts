import { budgetAllows, type SloEngine } from '@ballast/slo';

/**
 * Error-budget policy as a gate: risky work (a new feature flag, a large migration) needs a healthy budget;
 * routine deploys go ahead while the budget is low but stop once it is spent.
 */
export function canShip(engine: SloEngine, slo: string, risk: 'risky' | 'routine'): boolean {
  const policy = engine.policy(slo); // 'ok' | 'warning' | 'exhausted'
  return budgetAllows(policy, risk === 'risky' ? 'ok' : 'warning');
}
