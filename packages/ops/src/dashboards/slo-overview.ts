import type { DashboardSpec } from '../grafana/spec.js';
import { sel } from './query.js';

/** SLO overview: every SLO of the service, its error budget left, burn rates and alerts. */
export const sloOverviewDashboard: DashboardSpec = {
  uid: 'ballast-slo-overview',
  title: 'Ballast / SLO overview',
  description: 'Every SLO: error budget left, burn rate per window, SLI, and which burn-rate alerts fire.',
  tags: ['ballast', 'slo'],
  jobMetric: 'ballast_slo_error_budget_remaining_ratio',
  rows: [
    {
      title: 'Error budgets',
      panels: [
        {
          title: 'Error budget remaining',
          description: 'Share of the error budget left in the SLO window (below 0: the SLO is missed).',
          unit: 'percentunit',
          kind: 'bargauge',
          width: 8,
          max: 1,
          threshold: 0.25,
          queries: [{ expr: `min by (slo) (${sel('ballast_slo_error_budget_remaining_ratio')})`, legend: '{{slo}}' }],
        },
        {
          title: 'Burn rate by window',
          description: 'How fast each SLO spends its budget (1 = exactly the budget over the SLO window).',
          unit: 'none',
          width: 8,
          min: 0,
          threshold: 1,
          queries: [{ expr: `max by (slo, window) (${sel('ballast_slo_burn_rate')})`, legend: '{{slo}} {{window}}' }],
        },
        {
          title: 'Burn-rate alerts firing',
          description: 'Burn-rate alerts the SLO engine has firing (1 = firing), by severity.',
          unit: 'none',
          width: 8,
          min: 0,
          max: 1,
          queries: [{ expr: `max by (slo, severity) (${sel('ballast_slo_alert_firing')})`, legend: '{{slo}} {{severity}}' }],
        },
      ],
    },
    {
      title: 'Service level indicators',
      panels: [
        {
          title: 'Time to budget exhaustion',
          description: 'At the current burn rate, how long until the error budget is spent.',
          unit: 's',
          width: 8,
          queries: [{ expr: `min by (slo) (${sel('ballast_slo_time_to_exhaustion_seconds')})`, legend: '{{slo}}' }],
        },
        {
          title: 'Budget policy state',
          description: 'The error budget policy in force per SLO (1 = this state): ok, warning, exhausted.',
          unit: 'none',
          width: 8,
          min: 0,
          max: 1,
          queries: [{ expr: `max by (slo, state) (${sel('ballast_slo_policy_state')})`, legend: '{{slo}} {{state}}' }],
        },
        {
          title: 'SLI by window',
          description: 'Good events over valid events, per SLO and window.',
          unit: 'percentunit',
          width: 8,
          max: 1,
          queries: [{ expr: `min by (slo, window) (${sel('ballast_slo_sli_ratio')})`, legend: '{{slo}} {{window}}' }],
        },
      ],
    },
  ],
};
