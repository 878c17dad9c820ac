import type { CircuitBreakerOptions } from './CircuitBreakerPolicy.js';
import { CircuitBreakerPolicy, httpFailure } from './CircuitBreakerPolicy.js';
import { CountWindowBreaker } from './CountWindowBreaker.js';
import { TimeWindowBreaker } from './TimeWindowBreaker.js';

/** What a preset lets you override: anything but the breaker itself (pass `breaker` to replace it). */
export type PresetOptions = Omit<CircuitBreakerOptions, 'name'> & { readonly name?: string };

/** SQLSTATE classes that mean the database, not the query, is in trouble. */
const databaseClasses = new Set(['08', '53', '57', '58', 'XX']);

/**
 * A failure predicate for SQL databases: connection errors, timeouts and server-side trouble count (SQLSTATE
 * classes 08 connection exception, 53 insufficient resources, 57 operator intervention, 58 system error, XX
 * internal error, and any error without a SQLSTATE such as `ECONNREFUSED`); errors about the query itself
 * (constraint violations, syntax errors, serialization failures) do not.
 *
 * @example
 * ```ts
 * import { CircuitBreakerPolicy, databaseFailure } from '@ballast/resilience';
 * const breaker = new CircuitBreakerPolicy({ isFailure: databaseFailure });
 * ```
 */
export function databaseFailure(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return databaseClasses.has(code.slice(0, 2));
}

/**
 * Circuit breaker presets with numbers a team can start from. The README explains each number.
 *
 * @example
 * ```ts
 * import { presets } from '@ballast/resilience';
 * const stripe = presets.externalApi({ name: 'stripe' });
 * const db = presets.database({ name: 'orders-db' });
 * const inventory = presets.internalRpc({ name: 'inventory' });
 * ```
 */
export const presets = {
  /**
   * A third-party HTTP API over the internet: 30 s time window, opens at 50% failures over at least 20 calls or 80%
   * of calls slower than 5 s; 4xx do not count; stays open 30 s, doubling to 5 min while the outage lasts; 3 probes,
   * 2 successes to close.
   */
  externalApi(options: PresetOptions = {}): CircuitBreakerPolicy {
    return new CircuitBreakerPolicy({
      name: 'external-api',
      breaker: new TimeWindowBreaker({
        windowMs: 30_000,
        buckets: 10,
        failureRateThreshold: 0.5,
        slowCallRateThreshold: 0.8,
        minimumCalls: 20,
      }),
      slowCallDurationMs: 5_000,
      halfOpenAfterMs: 30_000,
      halfOpenBackoff: { multiplier: 2, maxMs: 300_000 },
      halfOpenProbes: 3,
      successThreshold: 2,
      isFailure: httpFailure,
      ...options,
    });
  },

  /**
   * Your own SQL database: last 100 calls, opens at 50% failures over at least 20 calls or 50% of calls slower than
   * 1 s; only database-side errors count; stays open 5 s, doubling to 1 min; 5 probes, 3 successes to close.
   */
  database(options: PresetOptions = {}): CircuitBreakerPolicy {
    return new CircuitBreakerPolicy({
      name: 'database',
      breaker: new CountWindowBreaker({
        size: 100,
        failureRateThreshold: 0.5,
        slowCallRateThreshold: 0.5,
        minimumCalls: 20,
      }),
      slowCallDurationMs: 1_000,
      halfOpenAfterMs: 5_000,
      halfOpenBackoff: { multiplier: 2, maxMs: 60_000 },
      halfOpenProbes: 5,
      successThreshold: 3,
      isFailure: databaseFailure,
      ...options,
    });
  },

  /**
   * A service in the same cluster: 10 s time window, opens at 50% failures over at least 50 calls or 80% of calls
   * slower than 1 s; 4xx do not count; stays open 5 s, doubling to 1 min; 3 probes, 2 successes to close.
   */
  internalRpc(options: PresetOptions = {}): CircuitBreakerPolicy {
    return new CircuitBreakerPolicy({
      name: 'internal-rpc',
      breaker: new TimeWindowBreaker({
        windowMs: 10_000,
        buckets: 10,
        failureRateThreshold: 0.5,
        slowCallRateThreshold: 0.8,
        minimumCalls: 50,
      }),
      slowCallDurationMs: 1_000,
      halfOpenAfterMs: 5_000,
      halfOpenBackoff: { multiplier: 2, maxMs: 60_000 },
      halfOpenProbes: 3,
      successThreshold: 2,
      isFailure: httpFailure,
      ...options,
    });
  },
} as const;
