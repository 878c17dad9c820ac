import { EventEmitter } from '@ballast/core';
import type { PolicyEvent, PolicyKind } from '@ballast/resilience';
import type { SloStatusLike } from '../../src/slo/slo-metrics.js';

/** A policy following the resilience event contract, driven by the test. */
export class FakePolicy {
  readonly #events = new EventEmitter<PolicyEvent>();
  readonly onEvent = this.#events.event;
  constructor(
    readonly name: string,
    readonly kind: PolicyKind,
  ) {}
  emit(event: { readonly type: PolicyEvent['type'] } & Record<string, unknown>): void {
    this.#events.emit({ policy: this.name, kind: this.kind, ...event } as PolicyEvent);
  }
}

/** A bulkhead: policy events plus the gauges of the contract. */
export class FakeBulkhead extends FakePolicy {
  inFlight = 0;
  queued = 0;
  limit = 4;
  constructor(name: string) {
    super(name, 'bulkhead');
  }
}

/** A concurrency limiter with per-priority gauges. */
export class FakeLimiter extends FakePolicy {
  inFlight = 3;
  limit = 10;
  inFlightByPriority = { critical: 1, default: 2, sheddable: 0 };
  tenantQueued = 1;
  queued: Record<'critical' | 'default' | 'sheddable', number> = { critical: 2, default: 0, sheddable: 0 };
  constructor(name: string) {
    super(name, 'concurrency-limiter');
  }
  queuedOf(priority: 'critical' | 'default' | 'sheddable'): number {
    return this.queued[priority];
  }
}

/** A `pg` Pool look-alike (counts and an `error` event). */
export class FakePool extends (await import('node:events')).EventEmitter {
  totalCount = 5;
  idleCount = 2;
  waitingCount = 1;
  options = { max: 10 };
}

export function sloStatus(overrides: Partial<SloStatusLike> = {}): SloStatusLike {
  return {
    slo: 'checkout-availability',
    service: 'checkout',
    objective: 0.999,
    sli: 0.9985,
    errorBudget: { total: 100, consumed: 150, remainingRatio: -0.5, remainingEvents: -50 },
    burnRates: [
      { window: '5m', rate: 14.4, sli: 0.9856 },
      { window: '1h', rate: 15, sli: null },
    ],
    alerts: [
      { name: 'fast', severity: 'page', firing: true, burnRate: 14.4, longWindow: '1h', shortWindow: '5m' },
      { name: 'slow', severity: 'ticket', firing: false, burnRate: 1, longWindow: '3d', shortWindow: '6h' },
    ],
    timeToExhaustionMs: null,
    policy: 'exhausted',
    ...overrides,
  };
}
