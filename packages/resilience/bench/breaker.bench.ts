/**
 * A circuit breaker alone on its hot path (closed circuit, successful calls): Ballast against cockatiel's
 * `circuitBreaker` with the same consecutive breaker, and against opossum (its per-call timeout turned off, so only
 * the breaker and its rolling statistics are measured). 100 calls per iteration, three alternating rounds; ratios use the median time per call.
 */
import { CircuitBreakerPolicy, ConsecutiveBreaker } from '@ballast/resilience';
import type { BenchResult } from '@ballast/testkit';
import { row } from '@ballast/testkit';
import { ConsecutiveBreaker as CockatielConsecutive, circuitBreaker, handleAll } from 'cockatiel';
import { measureInRounds } from './limiter-rounds.js';
import Opossum from 'opossum';

const BATCH = 100;
const work = (): Promise<number> => Promise.resolve(1);

export async function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const ballast = new CircuitBreakerPolicy({
    breaker: new ConsecutiveBreaker({ threshold: 5 }),
    halfOpenAfterMs: 10_000,
  });
  const cockatiel = circuitBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new CockatielConsecutive(5),
  });
  const opossum = new Opossum(work, { timeout: false, resetTimeout: 10_000, errorThresholdPercentage: 50 });
  const results = await measureInRounds(
    [
      {
        name: 'ballast CircuitBreakerPolicy',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await ballast.execute(work);
        },
      },
      {
        name: 'cockatiel circuitBreaker',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await cockatiel.execute(work);
        },
      },
      {
        name: 'opossum CircuitBreaker',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await opossum.fire();
        },
      },
    ],
    3,
    250,
  );
  opossum.shutdown();
  const ours = row(results, 'ballast CircuitBreakerPolicy').medianNs;
  return {
    results,
    ratios: {
      breaker_vs_cockatiel: row(results, 'cockatiel circuitBreaker').medianNs / ours,
      breaker_vs_opossum: row(results, 'opossum CircuitBreaker').medianNs / ours,
    },
  };
}
