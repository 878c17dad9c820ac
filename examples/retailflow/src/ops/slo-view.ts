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

/** Where the figures (and the budget policy the flags follow) come from now, and why. */
export interface SloSourceView {
  /**
   * `prometheus`: the fleet's view (every replica's traffic, kept across restarts), read from `PROMETHEUS_URL`;
   * `local-fallback`: `PROMETHEUS_URL` is set but Prometheus does not answer, so this instance's engine decides;
   * `local`: no `PROMETHEUS_URL`, this instance's engine.
   */
  readonly kind: 'prometheus' | 'local-fallback' | 'local';
  /** One sentence saying why. */
  readonly reason: string;
  /** When Prometheus last answered (ISO 8601). */
  readonly readAt?: string;
  /** How the in-process engine's state started (restored from a snapshot, or fresh and why). */
  readonly state?: string;
}

/** Every SLO of the service, from the source {@link SloSourceView} names. */
export interface SloReport {
  readonly service: string;
  readonly source?: SloSourceView;
  readonly slos: readonly SloStatusView[];
}
