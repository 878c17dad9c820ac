import type { AlertSpec } from './alert.js';
import type { AlertContext } from './ops.js';

const T = 'ballast_circuit_breaker_transitions_total';

/** A breaker's half-open probes keep failing: it has gone back to open at least 3 times in 15 minutes. */
export function BallastCircuitBreakerStuckOpen({
  TEST_LABELS,
  TEST_TARGET,
  metrics,
}: AlertContext): AlertSpec {
  return {
    name: 'BallastCircuitBreakerStuckOpen',
    severity: 'warning',
    expr: `sum by (job, instance, policy) (increase(${T}{from="half-open",to="open"}[15m])) >= 3`,
    for: '2m',
    summary: 'Circuit breaker {{ $labels.policy }} keeps failing its half-open probes',
    description:
      'Breaker {{ $labels.policy }} on {{ $labels.instance }} went from half-open back to open at least 3 times in 15 minutes: after each half-open period a trial call failed. The dependency behind it is still failing: down (every call fails) or failing part of its calls (the breaker closes, then trips again); the outbound error ratio tells which. Isolating the breaker stops the trials, and the alert then resolves whether or not the dependency recovered.',
    runbook: {
      meaning:
        'A circuit breaker opens when the dependency it protects fails too often, waits its half-open period, then lets trial calls through. This alert fires when a trial call failed at least three times in 15 minutes: the dependency is not recovering on its own. It does not say whether the dependency is down or failing part of its calls (a trial that passes closes the breaker until enough calls fail again): the outbound error ratio says which. It counts failed trials only, so it also resolves once the breaker is isolated (no trials run), dependency healthy or not.',
      impact:
        'Calls through the breaker fail fast with a broken-circuit error instead of waiting on a dead dependency. Users of the features that need it get errors or a fallback.',
      queries: [
        {
          title: 'Which breakers are reopening',
          expr: `sum by (policy) (increase(${T}{from="half-open",to="open"}[15m]))`,
        },
        {
          title: 'Current state of each breaker',
          expr: 'max by (policy, state) (ballast_circuit_breaker_state) == 1',
        },
        {
          title: 'Outcome of calls through the policy',
          expr: 'sum by (policy, outcome) (rate(ballast_policy_calls_total[5m]))',
        },
        {
          title: 'Errors from the dependency',
          expr: 'sum by (server_address, error_type) (rate(http_client_request_duration_seconds_count{error_type!=""}[5m]))',
        },
      ],
      panels: [
        { dashboard: 'ballast-resilience', panel: 'Breaker state' },
        { dashboard: 'ballast-resilience', panel: 'Breaker transitions' },
        { dashboard: 'ballast-red', panel: 'Outbound error ratio by dependency' },
      ],
      curl: [metrics('ballast_circuit_breaker_state')],
      steps: [
        "The alert's `policy` label names the breaker; find the dependency behind it and check that dependency's own status page or dashboard.",
        'Look at the outbound error types: timeouts point at a slow dependency, connection errors at a network or DNS problem, 5xx at the dependency itself.',
      ],
      mitigation: [
        'If the dependency is known to be down for a while, isolate the breaker so no trial call adds load while its owner fixes it: `breaker.isolate()` on the `CircuitBreakerPolicy`. Its state shows `isolated` and calls fail with reason `circuit-isolated`. Release it with `breaker.reset()` when the dependency is back.',
        'If the feature has a fallback, make sure it is serving rather than errors; without one, callers get the fast failure the breaker gives them.',
        'Do not raise the breaker thresholds to make the alert go away: the breaker is doing its job.',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: 'probes fail three times in a row: fires; resolves 15 minutes after the breaker stops reopening',
        series: [
          {
            series: `${T}{${TEST_TARGET},policy="payments",from="half-open",to="open"}`,
            values: '0x4 1+1x10 11x40',
          },
        ],
        firing: [{ at: '10m', labels: { ...TEST_LABELS, policy: 'payments' } }],
        quiet: ['5m', '35m', '50m'],
      },
      {
        name: 'one trip and a successful recovery: quiet',
        series: [
          { series: `${T}{${TEST_TARGET},policy="payments",from="closed",to="open"}`, values: '0x4 1x40' },
          { series: `${T}{${TEST_TARGET},policy="payments",from="open",to="half-open"}`, values: '0x5 1x40' },
          {
            series: `${T}{${TEST_TARGET},policy="payments",from="half-open",to="closed"}`,
            values: '0x6 1x40',
          },
        ],
        firing: [],
        quiet: ['10m', '20m'],
      },
    ],
  };
}
