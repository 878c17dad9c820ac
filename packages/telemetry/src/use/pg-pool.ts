import type { Subscription } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';
import { combine } from './common.js';

/** The parts of a `pg` `Pool` the adapter reads (no dependency on `pg`). */
export interface PgPoolLike {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options?: { readonly max?: number | undefined } | undefined;
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
  listenerCount?(event: 'error'): number;
}

/** Options for {@link observePgPool}. */
export interface PgPoolOptions {
  /**
   * The `pool` label.
   * @default 'default'
   * @example
   * ```ts
   * observePgPool(metrics, pool, { name: 'orders' });
   * ```
   */
  readonly name?: string;
}

/**
 * USE metrics for a `pg` Pool, read at scrape time: `ballast_pg_pool_connections{state=total|idle|active}`,
 * `ballast_pg_pool_max_connections` and `ballast_pg_pool_utilization_ratio` (when `options.max` is known),
 * `ballast_pg_pool_waiting_clients` (saturation), and `ballast_pg_pool_errors_total` from the pool's `error` events (an error nobody else listens for is rethrown,
 * as the pool would have done).
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { observePgPool } from '@ballast/telemetry';
 * const pool = new pg.Pool({ max: 10 });
 * observePgPool(metrics, pool, { name: 'orders' });
 * ```
 */
export function observePgPool(
  metrics: MetricsRegistry,
  pool: PgPoolLike,
  options: PgPoolOptions = {},
): Subscription {
  const name = metrics.label('ballast_pg_pool', 'pool', options.name ?? 'default');
  const labels = { pool: name };
  const max = () => {
    const value = pool.options?.max;
    return typeof value === 'number' && value > 0 ? value : undefined;
  };
  const subs: Subscription[] = [
    metrics.onCollect('ballast_pg_pool_connections', (g) => {
      g.set({ pool: name, state: 'total' }, pool.totalCount);
      g.set({ pool: name, state: 'idle' }, pool.idleCount);
      g.set({ pool: name, state: 'active' }, pool.totalCount - pool.idleCount);
    }),
    metrics.onCollect('ballast_pg_pool_waiting_clients', (g) => g.set(labels, pool.waitingCount)),
    metrics.onCollect('ballast_pg_pool_max_connections', (g) => {
      const m = max();
      if (m !== undefined) g.set(labels, m);
    }),
    metrics.onCollect('ballast_pg_pool_utilization_ratio', (g) => {
      const m = max();
      if (m !== undefined) g.set(labels, (pool.totalCount - pool.idleCount) / m);
    }),
  ];
  const errors = metrics.counter('ballast_pg_pool_errors_total');
  errors.inc(labels, 0);
  if (typeof pool.on === 'function') {
    const listener = (error: Error) => {
      errors.inc(labels);
      // Counting must not change what an unhandled pool error does: when no one else listens, rethrow it just as
      // the pool's emit would have thrown it without a listener.
      if (pool.listenerCount?.('error') === 1) throw error;
    };
    pool.on('error', listener);
    subs.push({ dispose: () => void pool.removeListener?.('error', listener) });
  }
  return combine(subs);
}
