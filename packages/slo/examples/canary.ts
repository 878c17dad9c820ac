import { judgeCanary, type CanaryJudgement } from '@ballast/slo';

/**
 * A canary judged against the stable version over the same five minutes: the checkout SLO's events of each
 * version (from Prometheus in a real rollout: `canarySlosFromPrometheus`) and a latency series sampled per interval.
 */
export function judgeCheckoutCanary(
  canaryFailed: number,
  canaryLatencyMs: readonly number[],
): CanaryJudgement {
  return judgeCanary({
    slos: [
      {
        name: 'checkout-availability',
        objective: 0.995,
        baseline: { good: 9_980, total: 10_000 },
        canary: { good: 600 - canaryFailed, total: 600 },
      },
    ],
    metrics: [
      {
        name: 'checkout p50 ms',
        baseline: [31, 30, 29, 33, 30, 31, 32, 30],
        canary: canaryLatencyMs,
        tolerance: 0.2, // a 20% slower median still passes
      },
    ],
  });
}
