import type { FlagOverride } from '../data/index.js';

/** The state of the checkout SLO's error budget, as `@ballast/slo`'s budget policy reports it. */
export type BudgetPolicyState = 'ok' | 'warning' | 'exhausted';

/** One feature flag as `GET /api/v1/flags` shows it. */
export interface FlagState {
  readonly name: string;
  readonly enabled: boolean;
  /** Why the flag has this value (`'default'`, or the budget rule that turned it off). */
  readonly reason: string;
}

/** A flag rule: its default, and optionally the SLO whose exhausted error budget turns it off. */
export interface FlagRule {
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  /** When set, the flag is off while this SLO's budget policy is `exhausted`. */
  readonly offWhenBudgetExhausted?: string;
}

/** RetailFlow's flags. `recommendations` is optional work that is shed while checkout burns its budget. */
export const FLAG_RULES: readonly FlagRule[] = [
  {
    name: 'recommendations',
    description: 'Product pages list related products (extra catalog reads per page view).',
    enabled: true,
    offWhenBudgetExhausted: 'checkout-availability',
  },
  {
    name: 'express-shipping',
    description: 'Checkout offers express shipping.',
    enabled: true,
  },
];

/**
 * Evaluates flags from their rules, the overrides an admin set (the tenant's own over the global one), and the
 * live budget state of the SLOs they depend on. The budget rule wins over every override: a flag guarded by an
 * exhausted budget is off whatever was set. Nothing is cached here: a flag turns off on the first request after
 * the budget policy says `exhausted` and back on when it recovers.
 *
 * @example
 * ```ts
 * const flags = new FeatureFlags(FLAG_RULES, (slo) => engine.status(slo).policy);
 * flags.isEnabled('recommendations');
 * ```
 */
export class FeatureFlags {
  readonly #rules: ReadonlyMap<string, FlagRule>;
  readonly #budget: (slo: string) => BudgetPolicyState | undefined;

  constructor(rules: readonly FlagRule[], budget: (slo: string) => BudgetPolicyState | undefined) {
    this.#rules = new Map(rules.map((r) => [r.name, r]));
    this.#budget = budget;
  }

  /** True for a flag that has a rule. */
  has(name: string): boolean {
    return this.#rules.has(name);
  }

  /** The state of one flag for a tenant with these `overrides` (from `listFlagOverrides`); unknown flags are off. */
  get(name: string, overrides: readonly FlagOverride[] = []): FlagState {
    const rule = this.#rules.get(name);
    if (!rule) return { name, enabled: false, reason: 'unknown flag' };
    const slo = rule.offWhenBudgetExhausted;
    if (slo !== undefined && this.#budget(slo) === 'exhausted') {
      return { name, enabled: false, reason: `error budget of ${slo} exhausted` };
    }
    const own = overrides.find((o) => o.flag === name && o.tenantId !== null);
    if (own) return { name, enabled: own.enabled, reason: 'tenant override' };
    const global = overrides.find((o) => o.flag === name && o.tenantId === null);
    if (global) return { name, enabled: global.enabled, reason: 'global override' };
    return { name, enabled: rule.enabled, reason: 'default' };
  }

  isEnabled(name: string, overrides: readonly FlagOverride[] = []): boolean {
    return this.get(name, overrides).enabled;
  }

  /** Every flag, in declaration order. */
  all(overrides: readonly FlagOverride[] = []): FlagState[] {
    return [...this.#rules.keys()].map((name) => this.get(name, overrides));
  }
}
