import type { Clock } from '@ballast/core';
import { ChaosPolicy, FallbackPolicy, pipeline, TimeoutPolicy } from '@ballast/resilience';

/**
 * A game-day drill: with `BALLAST_CHAOS=payments-latency` set, a quarter of the calls to the payment provider get
 * 2 s of extra latency, so the team can watch the timeout fire and the fallback answer. Off unless switched on.
 */
export function createPaymentsCall(
  charge: () => Promise<string>,
  options: { clock?: Clock; env?: Record<string, string | undefined>; random?: () => number } = {},
) {
  const time = options.clock ? { clock: options.clock } : {};
  const chaos = new ChaosPolicy({
    name: 'payments-latency',
    fault: { kind: 'latency', ms: 2_000 },
    rate: 0.25,
    ...(options.env ? { env: options.env } : {}),
    ...(options.random ? { random: options.random } : {}),
    ...time,
  });
  const policy = pipeline(
    new FallbackPolicy({ fallback: () => 'queued-for-retry' as const }),
    new TimeoutPolicy({ timeoutMs: 1_000, strategy: 'aggressive', ...time }),
    chaos,
  );
  return { chaos, charge: () => policy.execute(charge) };
}
