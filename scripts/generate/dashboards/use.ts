import type { DashboardSpec } from '../grafana/model.js';
import { rate, sel, sumBy } from './query.js';

/** USE: utilization, saturation and errors of every resource that can saturate a Node.js service. */
export const useDashboard: DashboardSpec = {
  uid: 'ballast-use',
  title: 'Ballast / USE resources',
  description:
    'Utilization, saturation and errors for the event loop, memory, GC, CPU, the database pool, bulkheads and limiters.',
  tags: ['ballast', 'use'],
  jobMetric: 'nodejs_eventloop_lag_p99_seconds',
  rows: [
    {
      title: 'Event loop',
      panels: [
        {
          title: 'Event loop utilization',
          description: 'Share of time the event loop was busy (1 = saturated: every callback waits).',
          unit: 'percentunit',
          width: 8,
          min: 0,
          max: 1,
          threshold: 0.9,
          queries: [{ expr: sel('nodejs_eventloop_utilization_ratio'), legend: '{{instance}}' }],
        },
        {
          title: 'Event loop delay p50 / p99',
          description: 'How late timers fire: the queueing delay every request pays.',
          unit: 's',
          width: 8,
          threshold: 0.1,
          queries: [
            { expr: sel('nodejs_eventloop_lag_p50_seconds'), legend: 'p50 {{instance}}' },
            { expr: sel('nodejs_eventloop_lag_p99_seconds'), legend: 'p99 {{instance}}' },
          ],
        },
        {
          title: 'Active handles',
          description: 'Open handles (sockets, timers, files): a steady climb is a leak.',
          unit: 'short',
          width: 8,
          queries: [{ expr: sel('nodejs_active_handles_total'), legend: '{{instance}}' }],
        },
      ],
    },
    {
      title: 'Memory, GC and CPU',
      panels: [
        {
          title: 'Heap used / total',
          description: 'V8 heap in use and reserved, and resident memory of the process.',
          unit: 'bytes',
          width: 8,
          queries: [
            { expr: sel('nodejs_heap_size_used_bytes'), legend: 'used {{instance}}' },
            { expr: sel('nodejs_heap_size_total_bytes'), legend: 'total {{instance}}' },
            { expr: sel('process_resident_memory_bytes'), legend: 'rss {{instance}}' },
          ],
        },
        {
          title: 'Time in GC',
          description: 'Seconds of garbage collection per second, by GC kind (0.1 = 10% of the time paused).',
          unit: 'percentunit',
          width: 8,
          queries: [{ expr: sumBy('kind', rate('nodejs_gc_duration_seconds_sum')), legend: '{{kind}}' }],
        },
        {
          title: 'CPU',
          description: 'CPU seconds used per second (1 = one core busy).',
          unit: 'percentunit',
          width: 8,
          queries: [{ expr: sumBy('instance', rate('process_cpu_seconds_total')), legend: '{{instance}}' }],
        },
      ],
    },
    {
      title: 'Database pool',
      panels: [
        {
          title: 'Pool connections by state',
          description: 'Connections of each pg pool, idle and in use.',
          unit: 'short',
          queries: [{ expr: sumBy('pool, state', sel('db_client_connections_usage')), legend: '{{pool}} {{state}}' }],
        },
        {
          title: 'Clients waiting for a connection',
          description: 'Saturation of the pool: queries waiting for a free connection.',
          unit: 'short',
          queries: [{ expr: sumBy('pool', sel('db_client_connections_pending_requests')), legend: '{{pool}}' }],
        },
      ],
    },
    {
      title: 'Bulkheads and limiters',
      panels: [
        {
          title: 'Bulkhead utilization',
          description: 'In-flight calls over the bulkhead limit, per bulkhead.',
          unit: 'percentunit',
          width: 8,
          min: 0,
          max: 1,
          queries: [
            {
              expr: `${sumBy('policy', sel('ballast_bulkhead_in_flight'))} / ${sumBy('policy', sel('ballast_bulkhead_limit'))}`,
              legend: '{{policy}}',
            },
          ],
        },
        {
          title: 'Bulkhead queue',
          description: 'Calls waiting for a bulkhead slot (saturation).',
          unit: 'short',
          width: 8,
          queries: [{ expr: sumBy('policy', sel('ballast_bulkhead_queued')), legend: '{{policy}}' }],
        },
        {
          title: 'Bulkhead rejections',
          description: 'Calls refused by a full bulkhead or a queue timeout (errors).',
          unit: 'ops',
          width: 8,
          queries: [{ expr: sumBy('policy, reason', rate('ballast_bulkhead_rejections_total')), legend: '{{policy}} {{reason}}' }],
        },
        {
          title: 'Concurrency limiter utilization',
          description: 'In-flight calls over the adaptive concurrency limit.',
          unit: 'percentunit',
          min: 0,
          queries: [
            {
              expr: `${sumBy('policy', sel('ballast_concurrency_in_flight'))} / ${sumBy('policy', sel('ballast_concurrency_limit'))}`,
              legend: '{{policy}}',
            },
          ],
        },
        {
          title: 'Telemetry label overflow',
          description: 'Label values collapsed to __overflow__ by the cardinality guard, per metric and label.',
          unit: 'ops',
          queries: [
            { expr: sumBy('metric, label', rate('ballast_telemetry_label_overflow_total')), legend: '{{metric}} {{label}}' },
          ],
        },
      ],
    },
  ],
};
