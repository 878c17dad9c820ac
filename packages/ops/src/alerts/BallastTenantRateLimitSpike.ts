import type { AlertSpec } from './alert.js';
import type { AlertContext } from './ops.js';

const R = 'http_server_request_duration_seconds_count';
const BY = 'job, tenant';

/** One tenant is rate limited (429) on most of its requests, more than once a second. */
export function BallastTenantRateLimitSpike({ TEST_LABELS, TEST_TARGET, metrics }: AlertContext): AlertSpec {
  return {
    name: 'BallastTenantRateLimitSpike',
    severity: 'warning',
    expr: `sum by (${BY}) (rate(${R}{http_response_status_code="429"}[5m])) > 1
and
sum by (${BY}) (rate(${R}{http_response_status_code="429"}[5m])) / sum by (${BY}) (rate(${R}[5m])) > 0.5`,
    for: '5m',
    summary: 'Tenant {{ $labels.tenant }} is being rate limited',
    description:
      "For 5 minutes more than half of tenant {{ $labels.tenant }}'s requests to {{ $labels.job }}, over one per second, were answered 429 by the per-tenant rate limiter. The tenant is over its plan: a runaway client, a retry storm, or a launch it did not tell us about.",
    runbook: {
      meaning:
        'Per-tenant rate limits keep one tenant from using capacity the others need. This tenant is sending far more than its plan allows and most of its requests are answered 429 with `Retry-After`.',
      impact:
        "The tenant's users see failures; other tenants are protected (that is the point of the limit). 429s count as good events in the availability SLOs, so no SLO burns: this alert is the only signal.",
      queries: [
        {
          title: 'Rate-limited requests per tenant',
          expr: `topk(10, sum by (tenant) (rate(${R}{http_response_status_code="429"}[5m])))`,
        },
        {
          title: 'What the tenant calls, by status',
          expr: `sum by (http_route, http_response_status_code) (rate(${R}{tenant="<tenant>"}[5m]))`,
        },
        {
          title: 'Rate-limit decisions per limiter',
          expr: 'sum by (policy, decision) (rate(ballast_rate_limit_decisions_total[5m]))',
        },
      ],
      panels: [
        { dashboard: 'ballast-resilience', panel: 'Rate-limit rejections, top tenants' },
        { dashboard: 'ballast-resilience', panel: 'Rate-limit decisions' },
      ],
      curl: [metrics('ballast_rate_limit_decisions_total')],
      steps: [
        "Check whether the tenant's clients honour `Retry-After`: a client that retries immediately on 429 shows as a steady limited rate far above its plan.",
        "Check the tenant's plan and its recent changes: a downgraded plan looks the same.",
      ],
      mitigation: [
        'Contact the tenant with the limited rate and the `Retry-After` contract; most spikes are a client bug.',
        "If the load is legitimate, raise the tenant's plan limit; if it threatens other tenants (shedding starts), keep the limit and let 429s do their work.",
        'Never lift rate limits globally to quiet this alert.',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: 'one tenant limited on 2 of 3 requests per second fires; a tenant with 1% limited stays quiet; resolves when the spike ends',
        series: [
          {
            series: `${R}{${TEST_TARGET},tenant="acme",http_route="/api/v1/orders",http_response_status_code="429"}`,
            values: '0+120x20 2400x30',
          },
          {
            series: `${R}{${TEST_TARGET},tenant="acme",http_route="/api/v1/orders",http_response_status_code="201"}`,
            values: '0+60x50',
          },
          {
            series: `${R}{${TEST_TARGET},tenant="globex",http_route="/api/v1/orders",http_response_status_code="429"}`,
            values: '0+6x50',
          },
          {
            series: `${R}{${TEST_TARGET},tenant="globex",http_route="/api/v1/orders",http_response_status_code="201"}`,
            values: '0+600x50',
          },
        ],
        firing: [{ at: '12m', labels: { job: TEST_LABELS.job, tenant: 'acme' } }],
        quiet: ['3m', '35m'],
      },
    ],
  };
}
