import type { DashboardSpec } from '../grafana/spec.js';
import { increase, quantile, rate, sel, sumBy } from './query.js';

/** Resilience: what every Ballast policy is doing (breakers, shedding, limits, retries, rate limits). */
export const resilienceDashboard: DashboardSpec = {
  uid: 'ballast-resilience',
  title: 'Ballast / Resilience',
  description:
    'Circuit breaker states and transitions, load shedding by priority, concurrency limits, retries and retry budgets, rate-limit decisions.',
  tags: ['ballast', 'resilience'],
  jobMetric: 'ballast_policy_calls_total',
  rows: [
    {
      title: 'Policies',
      panels: [
        {
          title: 'Policy calls by outcome',
          description: 'Calls per second through each policy, by outcome.',
          unit: 'ops',
          width: 8,
          queries: [{ expr: sumBy('policy, outcome', rate('ballast_policy_calls_total')), legend: '{{policy}} {{outcome}}' }],
        },
        {
          title: 'Rejections by reason',
          description: 'Calls a policy refused before running them: open breaker, full bulkhead, shed, rate limited, deadline.',
          unit: 'ops',
          queries: [{ expr: sumBy('policy, reason', rate('ballast_policy_rejections_total')), legend: '{{policy}} {{reason}}' }],
        },
        {
          title: 'Timeouts and fallbacks',
          description: 'Timeouts fired and degraded answers a fallback served instead of an error.',
          unit: 'ops',
          queries: [
            { expr: sumBy('policy', rate('ballast_timeouts_total')), legend: 'timeouts {{policy}}' },
            { expr: sumBy('policy', rate('ballast_fallbacks_total')), legend: 'fallbacks {{policy}}' },
          ],
        },
        {
          title: 'Policy call duration p99',
          description: 'p99 duration of calls through each policy.',
          unit: 's',
          width: 8,
          queries: [{ expr: quantile(0.99, 'ballast_policy_call_duration_seconds', 'policy'), legend: '{{policy}}' }],
        },
      ],
    },
    {
      title: 'Circuit breakers',
      panels: [
        {
          title: 'Breaker state',
          description: 'Current state of each breaker (1 = in this state): closed, open, half-open or isolated.',
          unit: 'none',
          min: 0,
          max: 1,
          queries: [{ expr: `max by (policy, state) (${sel('ballast_circuit_breaker_state')})`, legend: '{{policy}} {{state}}' }],
        },
        {
          title: 'Breaker transitions',
          description: 'State changes per interval: repeated half-open → open means probes keep failing.',
          unit: 'short',
          queries: [
            {
              expr: sumBy('policy, from, to', increase('ballast_circuit_breaker_transitions_total')),
              legend: '{{policy}} {{from}} → {{to}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Load shedding and concurrency',
      panels: [
        {
          title: 'Shed rate by priority',
          description: 'Requests shed per second, by priority: sheddable goes first, critical last.',
          unit: 'reqps',
          queries: [{ expr: sumBy('policy, priority', rate('ballast_load_shed_total')), legend: '{{policy}} {{priority}}' }],
        },
        {
          title: 'Concurrency limit vs in flight',
          description:
            'The adaptive limit, the calls in flight under it, the calls queued for a permit (saturation) and those waiting for their own tenant\'s places.',
          unit: 'short',
          queries: [
            { expr: sumBy('policy', sel('ballast_concurrency_limit')), legend: 'limit {{policy}}' },
            { expr: sumBy('policy', sel('ballast_concurrency_in_flight')), legend: 'in flight {{policy}}' },
            {
              expr: sumBy('policy, priority', sel('ballast_concurrency_in_flight')),
              legend: 'in flight {{policy}} {{priority}}',
            },
            {
              expr: sumBy('policy, priority', sel('ballast_concurrency_queued')),
              legend: 'queued {{policy}} {{priority}}',
            },
            {
              expr: sumBy('policy', sel('ballast_concurrency_tenant_queued')),
              legend: 'waiting for its tenant {{policy}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Caches and chaos',
      panels: [
        {
          title: 'Cache and single-flight results',
          description: 'Answers from the cache (hit, stale), shared in-flight calls, and misses that ran the call.',
          unit: 'ops',
          queries: [{ expr: sumBy('policy, result', rate('ballast_cache_results_total')), legend: '{{policy}} {{result}}' }],
        },
        {
          title: 'Chaos injections',
          description: 'Faults injected by chaos policies: anything here is an experiment, not an outage.',
          unit: 'ops',
          queries: [{ expr: sumBy('policy, fault', rate('ballast_chaos_injections_total')), legend: '{{policy}} {{fault}}' }],
        },
      ],
    },
    {
      title: 'Retries and rate limits',
      panels: [
        {
          title: 'Retries',
          description: 'Retry attempts per second and retries refused because the retry budget was spent.',
          unit: 'ops',
          width: 8,
          queries: [
            { expr: sumBy('policy', rate('ballast_retry_attempts_total')), legend: 'retries {{policy}}' },
            { expr: sumBy('policy', rate('ballast_retry_budget_exhausted_total')), legend: 'budget exhausted {{policy}}' },
          ],
        },
        {
          title: 'Rate-limit decisions',
          description: 'Requests allowed and limited per second by each rate limiter.',
          unit: 'reqps',
          width: 8,
          queries: [
            { expr: sumBy('policy, decision', rate('ballast_rate_limit_decisions_total')), legend: '{{policy}} {{decision}}' },
          ],
        },
        {
          title: 'Rate-limit rejections, top tenants',
          description: 'The ten tenants with the most requests answered 429 (rate limited) per second.',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `topk(10, ${sumBy('tenant', rate('http_server_request_duration_seconds_count', 'http_response_status_code="429"'))})`,
              legend: '{{tenant}}',
            },
          ],
        },
      ],
    },
  ],
};
