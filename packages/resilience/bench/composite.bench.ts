import type { BenchResult } from '@ballast/testkit';
import { measure, row } from '@ballast/testkit';
import {
  BulkheadPolicy as CockatielBulkhead,
  ConsecutiveBreaker as CockatielConsecutive,
  ExponentialBackoff as CockatielBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { BulkheadPolicy } from '../src/BulkheadPolicy.js';
import { CircuitBreakerPolicy } from '../src/CircuitBreakerPolicy.js';
import { ConsecutiveBreaker } from '../src/breaker/ConsecutiveBreaker.js';
import { pipeline } from '../src/Pipeline.js';
import { RetryPolicy } from '../src/RetryPolicy.js';
import { TimeoutPolicy } from '../src/TimeoutPolicy.js';

/** Calls per benchmark iteration, so tinybench's own per-iteration cost does not dilute the ratios. */
const BATCH = 100;

const work = (): Promise<number> => Promise.resolve(1);

/**
 * retry + circuit breaker + bulkhead + cooperative timeout, Ballast `pipeline` against cockatiel `wrap` of the same
 * four, and against a bare `await` of the same operation.
 */
export async function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const ballast = pipeline(
    new RetryPolicy({ idempotent: true, maxAttempts: 3 }),
    new CircuitBreakerPolicy({ breaker: new ConsecutiveBreaker({ threshold: 5 }), halfOpenAfterMs: 10_000 }),
    new BulkheadPolicy({ limit: 1_000, maxQueued: 0 }),
    new TimeoutPolicy({ timeoutMs: 1_000 }),
  );
  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 2, backoff: new CockatielBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new CockatielConsecutive(5) }),
    new CockatielBulkhead(1_000, 0),
    timeout(1_000, TimeoutStrategy.Cooperative),
  );
  const results = await measure(
    [
      {
        name: 'bare await',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await work();
        },
      },
      {
        name: 'ballast pipeline(retry, breaker, bulkhead, timeout)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await ballast.execute(work);
        },
      },
      {
        name: 'cockatiel wrap(retry, breaker, bulkhead, timeout)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await cockatiel.execute(work);
        },
      },
    ],
    { timeMs: 700, warmupMs: 200 },
  );
  const bare = row(results, 'bare await');
  const ours = row(results, 'ballast pipeline(retry, breaker, bulkhead, timeout)');
  const theirs = row(results, 'cockatiel wrap(retry, breaker, bulkhead, timeout)');
  return {
    results,
    ratios: {
      composite_vs_cockatiel: ours.opsPerSec / theirs.opsPerSec,
      composite_vs_bare: bare.opsPerSec / ours.opsPerSec,
    },
  };
}
