import type { RequestHandler } from 'express';
import type { BreakerState, CallContext, Deadline } from '@ballast/resilience';
import type { IngressGate } from './http/front-door.js';
import type { RoutePriorities } from './http/route-table.js';

/** What an operator can do to a circuit breaker: read its state, open it by hand, close it again. */
export interface BreakerControl {
  readonly state: BreakerState;
  isolate(): void;
  reset(): void;
}

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

/**
 * What `/admin/chaos` can target: the payment provider's calls, the store the API reads and writes, or the outbox
 * relay's reads and marks of the outbox table (a relay that cannot reach its table, while checkouts go on), or the
 * event loop itself (held busy `latencyMs` of every second, as by CPU-bound work).
 */
export type ChaosTarget = 'payments' | 'storage' | 'relay' | 'eventloop';

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
  /**
   * Ingress admission by priority class (see `the route table), applied by the front door before express: Ballast's
   * adaptive limiter, or a baseline the proof compares it with.
   */
  readonly ingress: IngressGate;
  /** The problem body of a request the ingress refused. */
  readonly refusal: (priority: RequestPriority) => unknown;
  /**
   * The problem body (a 429) of a request the ingress refused as its tenant's own excess: the tenant already runs as
   * many calls of the class as its share allows (`tenantCheckout`'s, counted at the door). Unset when the ingress
   * has no per-tenant limit.
   */
  readonly tenantRefusal?: (priority: RequestPriority) => unknown;
  /** Per-tenant rate limiting by plan; runs after authentication. */
  readonly rateLimit: RequestHandler;
  /** Tenant lookups by API key hash: cache + single-flight + stale-on-error (auth survives a store outage). */
  readonly tenantLookup: <T>(keyHash: string, load: () => Promise<T>) => Promise<T>;
  /** Catalog reads: cache + single-flight + stale-on-error. */
  readonly catalog: <T>(key: string, load: () => Promise<T>) => Promise<T>;
  /** Inventory reservation behind a bulkhead. */
  readonly inventory: <T>(work: () => Promise<T>) => Promise<T>;
  /**
   * One whole checkout (reservation and payment) of a tenant, of which one tenant may run only its share of the
   * bulkhead's slots at once (beyond it the call is refused with a 429 problem: the tenant's own burst, which must
   * not fill the bulkhead nor overload the payment provider every tenant shares).
   */
  readonly tenantCheckout: <T>(tenantId: string, work: () => Promise<T>) => Promise<T>;
  /**
   * A payment call through retry (with a retry budget) → breaker → per-attempt timeout → client-side throttle of
   * each attempt, bounded by the request's `deadline`. `work` receives the attempt's context (signal and tightened
   * deadline).
   */
  readonly payment: <T>(
    work: (call: CallContext) => Promise<T>,
    deadline: Deadline | undefined,
  ) => Promise<T>;
  /** Chaos switches for payments and storage. */
  readonly chaos: ChaosControl;
  /** The circuit breakers on-call may isolate or reset by hand (`/admin/breakers`), by policy name. */
  readonly breakers: ReadonlyMap<string, BreakerControl>;
  /**
   * Per-tenant rate-limit overrides in requests per minute (`/admin/tenants/:id/limit`), in force on this instance
   * until cleared or restarted; a tenant without one gets its plan's limit.
   */
  readonly tenantLimits: Map<string, number>;
  /**
   * Each API route's shedding priority on this instance: the route table's unless overridden at run time
   * (`/admin/routes/:routeId/priority`), until cleared or restarted. The front door reads it per request.
   */
  readonly routePriorities: RoutePriorities;
  /** Stops timers and connections the policies hold. */
  readonly close: () => Promise<void>;
}
