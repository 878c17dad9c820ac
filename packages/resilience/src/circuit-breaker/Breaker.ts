/**
 * Decides, from the calls a closed circuit sees, when it should open. One interface, one file per kind:
 * {@link ConsecutiveBreaker}, {@link CountWindowBreaker}, {@link TimeWindowBreaker}. Implementations are pure:
 * time comes in as an argument, so they are tested without a clock at all.
 *
 * @example
 * ```ts
 * import { CircuitBreakerPolicy, CountWindowBreaker } from '@ballast/resilience';
 * const breaker = new CircuitBreakerPolicy({
 *   breaker: new CountWindowBreaker({ size: 100, failureRateThreshold: 0.5, minimumCalls: 20 }),
 * });
 * ```
 */
export interface Breaker {
  /** The kind of breaker, for `toJSON()`. */
  readonly kind: 'consecutive' | 'count-window' | 'time-window';
  /**
   * Records one completed call made while the circuit was closed; returns true when the circuit should open.
   *
   * @param failed - the call failed and the failure predicate counted it.
   * @param slow - the call took at least the breaker's slow-call duration.
   * @param now - the breaker clock's time, in milliseconds.
   */
  record(failed: boolean, slow: boolean, now: number): boolean;
  /** Forgets every recorded call (the circuit closed again, or was reset). */
  reset(): void;
  /** Plain data that {@link Breaker.hydrate} accepts. */
  toJSON(): BreakerSnapshot;
  /** Restores what {@link Breaker.toJSON} returned; throws a `TypeError` on data of another kind or shape. */
  hydrate(snapshot: unknown): void;
}

/** A breaker's recorded calls as plain JSON-safe data. */
export interface BreakerSnapshot {
  readonly kind: Breaker['kind'];
  readonly [field: string]: unknown;
}

/** Options shared by the rate-based breakers. */
export interface RateThresholds {
  /**
   * Open when at least this fraction of the calls in the window failed (0 < x <= 1).
   * @default 0.5
   */
  readonly failureRateThreshold?: number;
  /**
   * Open when at least this fraction of the calls in the window were slow (took `slowCallDurationMs` or more on
   * the circuit breaker policy). 1 means slow calls alone open the circuit only when every call is slow.
   * @default 1
   */
  readonly slowCallRateThreshold?: number;
  /**
   * The minimum throughput: no decision is taken until the window holds at least this many calls, so three
   * failures out of four calls at 3 a.m. do not open the circuit.
   * @default 20
   */
  readonly minimumCalls?: number;
}

/** True when `counts` cross a threshold. Shared by the window breakers so they decide identically. */
export function crosses(
  total: number,
  failures: number,
  slow: number,
  minimumCalls: number,
  failureRate: number,
  slowRate: number,
): boolean {
  return total >= minimumCalls && total > 0 && (failures >= failureRate * total || slow >= slowRate * total);
}

/** Validates the snapshot handed to `hydrate`. */
export function expectSnapshot(snapshot: unknown, kind: Breaker['kind']): Record<string, unknown> {
  if (typeof snapshot !== 'object' || snapshot === null || (snapshot as { kind?: unknown }).kind !== kind) {
    throw new TypeError(
      `Expected \`snapshot\` to be a ${kind} breaker snapshot, got \`${JSON.stringify(snapshot)}\` (${typeof snapshot})`,
    );
  }
  return snapshot as Record<string, unknown>;
}
