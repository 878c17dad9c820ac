import type { Clock } from '@ballast/core';
import {
  BulkheadPolicy,
  type CallContext,
  type Deadline,
  ExponentialBackoff,
  FallbackPolicy,
  RetryBudget,
  RetryPolicy,
  RetryableError,
  TimeoutPolicy,
  pipeline,
  presets,
  writeDeadlineHeader,
} from '@ballast/resilience';

/** What the inventory service answers; `degraded` marks the fallback. */
export interface Stock {
  readonly sku: string;
  readonly available: number | null;
  readonly degraded: boolean;
}

/** The HTTP call, e.g. `fetch`; it receives the abort signal and the outbound headers. */
export type Transport = (
  url: string,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<{ status: number; headers: Record<string, string>; json(): Promise<unknown> }>;

/**
 * A client for one dependency, wrapped in the recommended order:
 * fallback → retry (with a shared budget) → circuit breaker → bulkhead → timeout → the call.
 */
export function createInventoryClient(transport: Transport, clock?: Clock) {
  const time = clock ? { clock } : {};
  const budget = new RetryBudget({ ...time }); // share this with every client of the inventory service
  const policy = pipeline(
    new FallbackPolicy({
      name: 'inventory-fallback',
      fallback: (): { available: null; degraded: true } => ({ available: null, degraded: true }),
    }),
    new RetryPolicy({
      name: 'inventory-retry',
      idempotent: true, // a GET: safe to send twice
      maxAttempts: 3,
      backoff: new ExponentialBackoff({ baseMs: 50, maxMs: 1_000, jitter: 'full' }),
      budget,
      ...time,
    }),
    presets.internalRpc({ name: 'inventory', ...time }),
    new BulkheadPolicy({
      name: 'inventory-bulkhead',
      limit: 20,
      maxQueued: 40,
      queueTimeoutMs: 100,
      ...time,
    }),
    new TimeoutPolicy({ name: 'inventory-timeout', timeoutMs: 300, ...time }),
  );

  async function fetchStock({ signal, deadline }: CallContext, sku: string) {
    const headers = writeDeadlineHeader({}, deadline); // the callee sees our remaining budget
    const res = await transport(`http://inventory/stock/${sku}`, { signal, headers });
    if (res.status >= 500 || res.status === 429) {
      const retryAfter = res.headers['retry-after'];
      throw Object.assign(new RetryableError(`inventory answered ${res.status}`), {
        status: res.status,
        retryAfter,
      });
    }
    return (await res.json()) as { available: number };
  }

  return {
    policy,
    budget,
    async stock(sku: string, options: { deadline?: Deadline } = {}): Promise<Stock> {
      const result = await policy.execute((ctx) => fetchStock(ctx, sku), options);
      return { sku, available: result.available, degraded: 'degraded' in result };
    },
  };
}
