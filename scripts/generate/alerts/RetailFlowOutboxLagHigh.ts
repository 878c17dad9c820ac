import type { AlertSpec } from './alert.js';
import {
  CHAOS_OFF_STEP,
  CHAOS_STATUS,
  READINESS,
  TEST_LABELS,
  TEST_TARGET,
  chaosOff,
  metrics,
} from './ops.js';

const H = 'retailflow_outbox_lag_seconds';
const DEPTH = 'retailflow_outbox_depth';

/** The objective of the order-event freshness SLO: events published within this many seconds. */
export const OUTBOX_LAG_OBJECTIVE_SECONDS = 30;

/** Order events are leaving the outbox later than the freshness objective allows. */
export const RetailFlowOutboxLagHigh: AlertSpec = {
  name: 'RetailFlowOutboxLagHigh',
  severity: 'warning',
  // Published events arrive late, or nothing is published while events wait (a stalled relay observes no lag).
  expr: `histogram_quantile(0.99, sum by (job, le) (rate(${H}_bucket[5m]))) > ${OUTBOX_LAG_OBJECTIVE_SECONDS}
or
(max by (job) (${DEPTH}) > 0 and on (job) sum by (job) (rate(${H}_count[5m])) == 0)`,
  for: '5m',
  summary:
    'Order events leave the outbox more than ' +
    `${OUTBOX_LAG_OBJECTIVE_SECONDS}` +
    ' s after their transaction',
  description: `For 5 minutes the p99 outbox lag of {{ $labels.job }} (time from the order transaction to the event's publication) has been above the ${OUTBOX_LAG_OBJECTIVE_SECONDS} s objective of the order-event freshness SLO, or events have waited in the outbox while none was published.`,
  runbook: {
    meaning:
      'Order events are written to an outbox table in the same transaction as the order, and a relay publishes them to the broker. The time between the two is the outbox lag; the order-event-freshness SLO wants 99.9% of events published within 30 s. The relay is falling behind: the broker is slow or refusing publishes, the database is slow, or the relay is stuck.',
    impact:
      'Downstream consumers (fulfilment, e-mails, analytics) learn about orders late. Orders themselves are safe: they are committed, and the outbox guarantees every event is published eventually.',
    queries: [
      {
        title: 'Outbox lag p50 / p99',
        expr: `histogram_quantile(0.99, sum by (le) (rate(${H}_bucket[5m])))`,
      },
      { title: 'Events published per second', expr: `sum(rate(${H}_count[5m]))` },
      { title: 'Events waiting in the outbox', expr: `max by (instance) (${DEPTH})` },
      {
        title: 'Share published within the objective',
        expr: `sum(rate(${H}_bucket{le="${OUTBOX_LAG_OBJECTIVE_SECONDS}"}[5m])) / sum(rate(${H}_count[5m]))`,
      },
    ],
    panels: [
      { dashboard: 'ballast-slo-detail', panel: 'SLI vs objective' },
      { dashboard: 'ballast-slo-overview', panel: 'Burn rate by window' },
      { dashboard: 'ballast-use', panel: 'Clients waiting for a connection' },
    ],
    curl: [READINESS, CHAOS_STATUS, metrics('retailflow_outbox')],
    steps: [
      'Open the SLO detail dashboard with `slo = order-event-freshness`: a lag spike that is already recovering needs no action.',
      'Check `/readyz`: a broker or database check failing explains a stalled relay.',
      'If the publish rate dropped to zero while orders still come in, the relay is stuck: look for errors in its logs.',
    ],
    mitigation: [
      CHAOS_OFF_STEP,
      'Restore the broker or database first; the relay catches up on its own, oldest events first.',
      "If the relay is stuck, restart the instance: the outbox is durable, nothing is lost and nothing is published twice beyond the consumers' idempotency.",
    ],
    mitigationCommands: [chaosOff('storage')],
  },
  tests: [
    {
      name: 'events published within 1 s are quiet; a minute-old backlog fires; no more slow events resolves',
      series: [
        { series: `${H}_bucket{${TEST_TARGET},le="1"}`, values: '0+60x10 600x40' },
        { series: `${H}_bucket{${TEST_TARGET},le="30"}`, values: '0+60x10 600x40' },
        { series: `${H}_bucket{${TEST_TARGET},le="60"}`, values: '0+60x10 600+60x20 1800x20' },
        { series: `${H}_bucket{${TEST_TARGET},le="+Inf"}`, values: '0+60x10 600+60x20 1800x20' },
      ],
      firing: [{ at: '25m', labels: { job: TEST_LABELS.job } }],
      quiet: ['10m', '14m', '45m'],
    },
    {
      name: 'events wait while none is published (a stalled relay) fires; resolves when the backlog drains',
      series: [
        { series: `${H}_count{${TEST_TARGET}}`, values: '0+60x10 600x15 600+60x20' },
        { series: `${DEPTH}{${TEST_TARGET}}`, values: '0x10 40x15 0x20' },
      ],
      firing: [{ at: '22m', labels: { job: TEST_LABELS.job } }],
      quiet: ['8m', '14m', '40m'],
    },
    {
      name: 'a backlog that is being published is quiet',
      series: [
        { series: `${H}_count{${TEST_TARGET}}`, values: '0+60x40' },
        { series: `${DEPTH}{${TEST_TARGET}}`, values: '30x40' },
      ],
      firing: [],
      quiet: ['10m', '30m'],
    },
  ],
};
