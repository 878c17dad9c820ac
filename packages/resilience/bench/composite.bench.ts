/**
 * retry + circuit breaker + bulkhead + cooperative timeout: Ballast `pipeline` against cockatiel `wrap` of the same
 * four policies, and against a bare `await` of the same operation. Ballast is measured as it ships (the built
 * `dist`, as `npm run bench` builds it first), cockatiel from its published build.
 *
 * Two ways of timing, both reported:
 * - per call (one call per tinybench iteration), the way the issue measured its baseline (a bare `await` at
 *   ~0.13 µs, cockatiel's pipeline at ~88k calls/s); tinybench's own per-iteration cost is part of every row.
 * - batched (100 calls per iteration), which leaves almost nothing but the calls themselves; the stricter figure.
 * Three alternating rounds (`measureInRounds`); ratios use the median time per call.
 */
import {
  BulkheadPolicy,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  RetryPolicy,
  TimeoutPolicy,
  pipeline,
} from '@ballast/resilience';
import type { BenchResult } from '@ballast/testkit';
import { row } from '@ballast/testkit';
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
import { measureInRounds } from './limiter-rounds.js';

const BATCH = 100;
const work = (): Promise<number> => Promise.resolve(1);

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
  const ballastTimeout = new TimeoutPolicy({ timeoutMs: 1_000 });
  const cockatielTimeout = timeout(1_000, TimeoutStrategy.Cooperative);
  const results = await measureInRounds(
    [
      { name: 'bare await (per call)', fn: () => work() },
      { name: 'ballast pipeline (per call)', fn: () => ballast.execute(work) },
      { name: 'cockatiel wrap (per call)', fn: () => cockatiel.execute(work) },
      {
        name: 'bare await (batched)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await work();
        },
      },
      {
        name: 'ballast pipeline (batched)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await ballast.execute(work);
        },
      },
      {
        name: 'ballast timeout alone (batched)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await ballastTimeout.execute(work);
        },
      },
      {
        name: 'cockatiel timeout alone (batched)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await cockatielTimeout.execute(work);
        },
      },
      {
        name: 'cockatiel wrap (batched)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await cockatiel.execute(work);
        },
      },
    ],
    3,
    200,
  );
  const ns = (name: string): number => row(results, name).medianNs;
  return {
    results,
    ratios: {
      composite_vs_cockatiel: ns('cockatiel wrap (per call)') / ns('ballast pipeline (per call)'),
      composite_vs_bare: ns('ballast pipeline (per call)') / ns('bare await (per call)'),
      composite_vs_cockatiel_batched: ns('cockatiel wrap (batched)') / ns('ballast pipeline (batched)'),
      composite_vs_bare_batched: ns('ballast pipeline (batched)') / ns('bare await (batched)'),
      timeout_vs_cockatiel_batched:
        ns('cockatiel timeout alone (batched)') / ns('ballast timeout alone (batched)'),
    },
  };
}
