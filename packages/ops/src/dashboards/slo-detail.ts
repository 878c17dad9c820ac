import { SLO_RECORDS } from '@ballast/slo';
import type { DashboardSpec } from '../grafana/spec.js';
import { sel } from './query.js';

const ERROR_RATIO = SLO_RECORDS.errorRatio;
const PERIOD_RATIO = SLO_RECORDS.periodErrorRatio;
const BUDGET_LEFT = SLO_RECORDS.budgetRemaining;

const SLO = 'slo=~"$slo"';

/**
 * SLO detail: one SLO, picked with the `slo` variable: SLI against objective, budget burn-down, burn rates, as the
 * service's SLO engine sees them and as Prometheus's recording rules (`recorded`: the series the generated SLO
 * rules record) compute them.
 */
export function sloDetailDashboard(recorded: ReadonlySet<string>): DashboardSpec {
  // One series per alert window under the `window` label, and the period's ratio beside them.
  const ratios = [
    ...(recorded.has(ERROR_RATIO) ? [{ expr: `max by (window) (${ERROR_RATIO}{${SLO}})`, legend: '{{window}}' }] : []),
    ...(recorded.has(PERIOD_RATIO) ? [{ expr: `max(${PERIOD_RATIO}{${SLO}})`, legend: 'period' }] : []),
  ];
  return {
  uid: 'ballast-slo-detail',
  title: 'Ballast / SLO detail',
  description: 'One SLO: SLI per window, error budget burn-down and the multi-window burn rates its alerts use.',
  tags: ['ballast', 'slo'],
  jobMetric: 'ballast_slo_sli_ratio',
  variables: [
    { name: 'slo', label: 'SLO', query: 'label_values(ballast_slo_sli_ratio{job=~"$job"}, slo)' },
  ],
  rows: [
    {
      title: 'Objective',
      panels: [
        {
          title: 'SLI vs objective',
          description: 'Good events over valid events in each window the SLO engine tracks, against the objective.',
          unit: 'percentunit',
          max: 1,
          queries: [
            { expr: `min by (window) (${sel('ballast_slo_sli_ratio', SLO)})`, legend: 'SLI {{window}}' },
            { expr: `min(${sel('ballast_slo_objective_ratio', SLO)})`, legend: 'objective' },
          ],
        },
        {
          title: 'Error budget burn-down',
          description: 'Share of the error budget left over time: the slope is the burn.',
          unit: 'percentunit',
          max: 1,
          threshold: 0,
          queries: [{ expr: `min(${sel('ballast_slo_error_budget_remaining_ratio', SLO)})`, legend: 'budget left' }],
        },
        {
          title: 'Error budget left in events',
          description: 'How many more bad events the SLO can take in its window.',
          unit: 'short',
          queries: [{ expr: `min(${sel('ballast_slo_error_budget_remaining_events', SLO)})`, legend: 'bad events left' }],
        },
      ],
    },
    {
      title: 'Burn rates',
      panels: [
        {
          title: 'Multi-window burn rates',
          description: 'Burn rate in each window: an alert fires when a long and a short window both pass its factor.',
          unit: 'none',
          min: 0,
          threshold: 1,
          queries: [{ expr: `max by (window) (${sel('ballast_slo_burn_rate', SLO)})`, legend: '{{window}}' }],
        },
        {
          title: 'Burn-rate alerts firing',
          description: 'Alerts the SLO engine has firing for this SLO (1 = firing).',
          unit: 'none',
          min: 0,
          max: 1,
          queries: [{ expr: `max by (severity) (${sel('ballast_slo_alert_firing', SLO)})`, legend: '{{severity}}' }],
        },
      ],
    },
    ...(ratios.length === 0 && !recorded.has(BUDGET_LEFT)
      ? []
      : [
          {
            title: 'Prometheus recording rules',
            panels: [
              {
                title: 'Error ratio by window (recording rules)',
                description:
                  'Bad events over all events in each window of the burn-rate alerts (held to the history Prometheus has, as the alerts judge them) and over the period, as the generated recording rules compute them.',
                unit: 'percentunit',
                min: 0,
                queries: ratios,
              },
              {
                title: 'Error budget left (recording rules)',
                description: 'Share of the error budget left over the SLO period, as the recording rules compute it.',
                unit: 'percentunit',
                max: 1,
                threshold: 0,
                queries: [{ expr: `min(${BUDGET_LEFT}{${SLO}})`, legend: 'budget left' }],
              },
            ],
          },
        ]),
  ],
  };
}
