import type { RequestHandler } from 'express';

/** Priority classes of inbound requests for load shedding (`sheddable` is shed first, `critical` last). */
export type RequestPriority = 'critical' | 'default' | 'sheddable';

/** A fault injected by a chaos policy, as `/admin/chaos` sets it. */
export interface ChaosFault {
  readonly enabled: boolean;
  /** Added latency in ms. */
  readonly latencyMs: number;
  /** Share of calls that fail, 0–1. */
  readonly errorRate: number;
}

/** What `/admin/chaos` can target. */
export type ChaosTarget = 'payments' | 'storage';

/** The chaos switches (run-time settable). */
export interface ChaosControl {
  get(): Readonly<Record<ChaosTarget, ChaosFault>>;
  set(target: ChaosTarget, fault: ChaosFault): void;
}

/**
 * The resilience policies RetailFlow's handlers use, as the handlers see them. `wiring/policies.ts` builds them
 * from `@ballast/resilience`; handlers never construct a policy themselves.
 */
export interface ServicePolicies {
  /** Ingress adaptive load shedding; reads the request's priority class (see `classify`). */
  readonly shedding: RequestHandler;
  /** Per-tenant rate limiting by plan; runs after authentication. */
  readonly rateLimit: RequestHandler;
  /** Catalog reads: cache + single-flight + stale-on-error. */
  catalog<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** Inventory reservation behind a bulkhead. */
  inventory<T>(work: () => Promise<T>): Promise<T>;
  /**
   * A payment call through breaker + deadline + retry with a retry budget. `work` receives the signal of one
   * attempt (aborted on the per-attempt timeout or when `deadline` aborts).
   */
  payment<T>(work: (signal: AbortSignal) => Promise<T>, deadline: AbortSignal): Promise<T>;
  /** Chaos switches for payments and storage. */
  readonly chaos: ChaosControl;
  /** Drops cached catalog entries for a tenant (after a write that changes stock). */
  invalidateCatalog(tenantId: string): void;
  /** Stops timers and connections the policies hold. */
  close(): Promise<void>;
}
