import type { AlertSpec } from './alert.js';
import type { AlertContext } from './ops.js';

const S = 'ballast_load_shed_total';

/** The load shedder has been refusing `critical` requests for 5 minutes: sheddable work alone no longer makes room. */
export function BallastCriticalTrafficShed({ TEST_LABELS, TEST_TARGET, metrics }: AlertContext): AlertSpec {
  return {
    name: 'BallastCriticalTrafficShed',
    severity: 'critical',
    expr: `sum by (job, instance, policy) (rate(${S}{priority="critical"}[5m])) > 0.1`,
    for: '5m',
    summary: 'Load shedder {{ $labels.policy }} is shedding critical requests',
    description:
      'For 5 minutes {{ $labels.instance }} has shed more than one critical request every 10 seconds through {{ $labels.policy }}. Sheddable and default traffic are shed first, so the service is overloaded past what shedding them can absorb.',
    runbook: {
      meaning:
        "Ballast's adaptive concurrency limiter sheds requests by priority class: `sheddable` first, then `default`, and `critical` last. Critical requests are being refused: either the limit is reached even after dropping everything less important, or the resource critical requests need is full (a bulkhead whose saturation the limiter reads).",
      impact:
        'Users get 503 with `Retry-After` on the requests that matter most. The availability SLOs of those routes burn fast.',
      queries: [
        { title: 'Shed rate by priority', expr: `sum by (policy, priority) (rate(${S}[5m]))` },
        { title: 'Concurrency limit vs in flight', expr: 'sum by (policy) (ballast_concurrency_limit)' },
        {
          title: 'Calls queued at the limiter for a permit (critical ones: checkouts waiting at the door)',
          expr: 'sum by (policy, priority) (ballast_concurrency_queued)',
        },
        {
          title: 'Bulkhead queue (a full one sheds critical at the door)',
          expr: 'sum by (policy) (ballast_bulkhead_queued)',
        },
        {
          title: 'Request latency p99 (why the limit shrank)',
          expr: 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[5m])))',
        },
        { title: 'Event loop delay p99', expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds)' },
      ],
      panels: [
        { dashboard: 'ballast-resilience', panel: 'Shed rate by priority' },
        { dashboard: 'ballast-resilience', panel: 'Concurrency limit vs in flight' },
        { dashboard: 'ballast-red', panel: 'Latency p50 / p99 by route' },
        { dashboard: 'ballast-use', panel: 'Event loop utilization' },
      ],
      curl: [metrics('ballast_load_shed_total|ballast_concurrency_limit|ballast_concurrency_queued')],
      steps: [
        "Is it more traffic (request rate up) or slower work (latency up at the same rate)? Compare the RED dashboard's request rate and latency panels.",
        'If latency went up first, find the slow dependency (outbound latency by dependency) or a saturated resource (event loop, DB pool waiting).',
      ],
      mitigation: [
        'Add capacity: scale out instances; the limiter on each instance finds its own limit within a minute.',
        'Change a shed priority: move non-essential routes classified `default` down to `sheddable` so they are refused before critical ones (the priority classifier that feeds the ingress shedder: at run time through the service lever when it has one, listed above, otherwise by a deploy).',
        'If one tenant drives the load, lower its rate limit rather than letting the shedder refuse everyone.',
        'If a slow dependency holds requests open, isolate its breaker (`breaker.isolate()`) so requests fail fast and free their concurrency; `breaker.reset()` releases it.',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: 'sustained critical shedding fires after 5 minutes and resolves when shedding stops; sheddable shedding alone is quiet',
        series: [
          { series: `${S}{${TEST_TARGET},policy="ingress",priority="critical"}`, values: '0+30x20 600x30' },
          { series: `${S}{${TEST_TARGET},policy="ingress",priority="sheddable"}`, values: '0+600x50' },
        ],
        firing: [{ at: '10m', labels: { ...TEST_LABELS, policy: 'ingress' } }],
        quiet: ['4m', '35m'],
      },
    ],
  };
}
