import type { BudgetPolicyState } from '../flags/flags.js';

/** One SLO as `/api/v1/slo` and `/slo` show it (the `SloStatus` schema of the OpenAPI document). */
export interface SloStatusView {
  readonly name: string;
  readonly displayName: string;
  /** The objective, e.g. 0.995. */
  readonly objective: number;
  /** Good / total over the SLO window; `null` before any event. */
  readonly sli: number | null;
  /** Fraction of the error budget left; negative when overspent. */
  readonly errorBudgetRemaining: number;
  readonly policy: BudgetPolicyState;
  /** Burn rates by window (`'1h'`, `'5m'`, …). */
  readonly burnRates?: Readonly<Record<string, number>>;
}

/** Every SLO of the service, read live from the in-process engine. */
export interface SloReport {
  readonly service: string;
  readonly slos: readonly SloStatusView[];
}
