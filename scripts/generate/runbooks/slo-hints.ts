import type { AlertSpec } from '../alerts/alert.js';
import { CHAOS_OFF_STEP, chaosOff, metrics } from '../alerts/ops.js';

/** What a burn-rate runbook adds for one SLO: where its errors come from and the levers that stop them. */
export type SloHints = Omit<AlertSpec['runbook'], 'meaning' | 'impact'>;

/** RetailFlow's SLOs, by name. An SLO without an entry gets the generic runbook only. */
export const SLO_HINTS: Readonly<Record<string, SloHints>> = {
  'checkout-availability': {
    queries: [
      {
        title: 'Checkout answers by status',
        expr: 'sum by (http_response_status_code) (rate(http_server_request_duration_seconds_count{http_route="/api/v1/orders",http_request_method="POST"}[5m]))',
      },
      {
        title: 'Payment provider errors',
        expr: 'sum by (server_address, error_type) (rate(http_client_request_duration_seconds_count{error_type!=""}[5m]))',
      },
      { title: 'Breaker states', expr: 'max by (policy, state) (ballast_circuit_breaker_state) == 1' },
      { title: 'Critical requests shed', expr: 'sum by (policy) (rate(ballast_load_shed_total{priority="critical"}[5m]))' },
    ],
    panels: [
      { dashboard: 'ballast-red', panel: 'Error ratio by route (5xx)' },
      { dashboard: 'ballast-red', panel: 'Outbound error ratio by dependency' },
      { dashboard: 'ballast-resilience', panel: 'Breaker state' },
      { dashboard: 'ballast-resilience', panel: 'Shed rate by priority' },
    ],
    curl: [metrics('ballast_circuit_breaker_state|ballast_load_shed_total')],
    steps: [
      '5xx from checkout mostly come from the payment provider (breaker open → 503, deadline exceeded → 504) or from shedding critical traffic under overload. The queries above say which.',
      'If the payment breaker is open, see [BallastCircuitBreakerStuckOpen](BallastCircuitBreakerStuckOpen.md); if critical traffic is shed, see [BallastCriticalTrafficShed](BallastCriticalTrafficShed.md).',
    ],
    mitigation: [
      CHAOS_OFF_STEP,
      'Payment provider down: isolate the payment breaker so checkouts fail fast with a clear 503 instead of waiting for timeouts, and tell the provider; release it when they recover.',
      'Overload: make catalog browsing `sheddable` (it already is by default) and scale out so checkout keeps its capacity.',
      'Roll back a deploy or flag change that preceded the burn.',
    ],
    mitigationCommands: [chaosOff('payments')],
  },
  'catalog-latency': {
    queries: [
      {
        title: 'Catalog latency p99 by route',
        expr: 'histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{http_route=~"/api/v1/products.*"}[5m])))',
      },
      { title: 'Cache results', expr: 'sum by (policy, result) (rate(ballast_cache_results_total[5m]))' },
      { title: 'Database pool waiting clients', expr: 'sum by (pool) (ballast_pg_pool_waiting_clients)' },
      { title: 'Event loop delay p99', expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds)' },
    ],
    panels: [
      { dashboard: 'ballast-red', panel: 'Latency p50 / p99 by route' },
      { dashboard: 'ballast-resilience', panel: 'Cache and single-flight results' },
      { dashboard: 'ballast-use', panel: 'Clients waiting for a connection' },
      { dashboard: 'ballast-use', panel: 'Event loop delay p50 / p99' },
    ],
    curl: [metrics('ballast_cache_results_total')],
    steps: [
      'A falling cache hit ratio sends every read to the database: check the cache panel first.',
      'Pool clients waiting means the database is the bottleneck; a high event loop delay means the process is.',
    ],
    mitigation: [
      CHAOS_OFF_STEP,
      'Storage latency injected or real: serve stale catalog entries (the catalog cache does on errors) and switch the `recommendations` flag off to cut the per-product work.',
      'Scale out if the event loop is saturated; see [BallastEventLoopSaturated](BallastEventLoopSaturated.md).',
    ],
    mitigationCommands: [chaosOff('storage')],
  },
  'order-event-freshness': {
    queries: [
      {
        title: 'Outbox lag p99',
        expr: 'histogram_quantile(0.99, sum by (le) (rate(retailflow_outbox_lag_seconds_bucket[5m])))',
      },
      { title: 'Events published per second', expr: 'sum(rate(retailflow_outbox_lag_seconds_count[5m]))' },
    ],
    panels: [{ dashboard: 'ballast-use', panel: 'Clients waiting for a connection' }],
    curl: [metrics('retailflow_outbox')],
    steps: [
      'This SLO burns when the outbox relay publishes late; the operational alert [RetailFlowOutboxLagHigh](RetailFlowOutboxLagHigh.md) has the details.',
      'Check `/readyz` for the broker and database checks.',
    ],
    mitigation: [
      CHAOS_OFF_STEP,
      'Restore the broker or the database; the relay catches up on its own, oldest events first.',
      'Restart an instance whose relay is stuck: the outbox is durable.',
    ],
    mitigationCommands: [chaosOff('storage')],
  },
};
