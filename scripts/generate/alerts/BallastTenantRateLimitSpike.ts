import type { AlertSpec } from './alert.js';
import { TEST_LABELS, TEST_TARGET, metrics } from './ops.js';

const D = 'ballast_rate_limit_decisions_total';
const BY = 'job, policy, tenant';

/** One tenant is being rejected by the rate limiter most of the time, more than once a second. */
export const BallastTenantRateLimitSpike: AlertSpec = {
  name: 'BallastTenantRateLimitSpike',
  severity: 'warning',
  expr: `sum by (${BY}) (rate(${D}{decision="rejected"}[5m])) > 1
and
sum by (${BY}) (rate(${D}{decision="rejected"}[5m])) / sum by (${BY}) (rate(${D}[5m])) > 0.5`,
  for: '5m',
  summary: 'Tenant {{ $labels.tenant }} is being rate limited by {{ $labels.policy }}',
  description:
    "For 5 minutes more than half of tenant {{ $labels.tenant }}'s requests, over one per second, were rejected with 429 by {{ $labels.policy }}. The tenant is over its plan: a runaway client, a retry storm, or a launch it did not tell us about.",
  runbook: {
    meaning:
      'Per-tenant rate limits keep one tenant from using capacity the others need. This tenant is sending far more than its plan allows and most of its requests are answered 429 with `Retry-After`.',
    impact:
      "The tenant's users see failures; other tenants are protected (that is the point of the limit). 429s count as good events in the availability SLOs, so no SLO burns: this alert is the only signal.",
    queries: [
      {
        title: 'Rejections per tenant',
        expr: `topk(10, sum by (tenant) (rate(${D}{decision="rejected"}[5m])))`,
      },
      {
        title: 'Allowed vs rejected for the tenant',
        expr: `sum by (decision) (rate(${D}{tenant="<tenant>"}[5m]))`,
      },
      {
        title: 'Share of capacity the tenant uses',
        expr: `sum by (tenant) (rate(${D}{decision="allowed"}[5m])) / ignoring(tenant) group_left sum(rate(${D}{decision="allowed"}[5m]))`,
      },
    ],
    panels: [
      { dashboard: 'ballast-resilience', panel: 'Rate-limit rejections, top tenants' },
      { dashboard: 'ballast-resilience', panel: 'Rate-limit decisions' },
    ],
    curl: [metrics('ballast_rate_limit_decisions_total')],
    steps: [
      "Check whether the tenant's clients honour `Retry-After`: a client that retries immediately on 429 shows as a steady rejected rate far above its plan.",
      "Check the audit log and the tenant's plan for a recent change (a downgraded plan looks the same).",
    ],
    mitigation: [
      'Contact the tenant with the rejected rate and the `Retry-After` contract; most spikes are a client bug.',
      "If the load is legitimate, raise the tenant's plan limit; if it threatens other tenants (shedding starts), keep the limit and let 429s do their work.",
      'Never lift rate limits globally to quiet this alert.',
    ],
    mitigationCommands: [],
  },
  tests: [
    {
      name: 'one tenant rejected at 2/s of 3/s fires; a tenant with 1% rejections stays quiet; resolves when the spike ends',
      series: [
        {
          series: `${D}{${TEST_TARGET},policy="tenant-limit",tenant="acme",decision="rejected"}`,
          values: '0+120x20 2400x30',
        },
        {
          series: `${D}{${TEST_TARGET},policy="tenant-limit",tenant="acme",decision="allowed"}`,
          values: '0+60x50',
        },
        {
          series: `${D}{${TEST_TARGET},policy="tenant-limit",tenant="globex",decision="rejected"}`,
          values: '0+6x50',
        },
        {
          series: `${D}{${TEST_TARGET},policy="tenant-limit",tenant="globex",decision="allowed"}`,
          values: '0+600x50',
        },
      ],
      firing: [{ at: '12m', labels: { job: TEST_LABELS.job, policy: 'tenant-limit', tenant: 'acme' } }],
      quiet: ['3m', '35m'],
    },
  ],
};
