import type { DashboardSpec } from '../grafana/spec.js';
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
          queries: [{ expr: sel('ballast_nodejs_eventloop_utilization_ratio'), legend: '{{instance}}' }],
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
          title: 'Active handles and open file descriptors',
          description: 'Open handles (sockets, timers, files) and file descriptors: a steady climb is a leak.',
          unit: 'short',
          width: 8,
          queries: [
            { expr: sel('nodejs_active_handles_total'), legend: 'handles {{instance}}' },
            { expr: sel('process_open_fds'), legend: 'fds {{instance}}' },
          ],
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
          title: 'Pool utilization',
          description: 'Connections in use over the pool maximum, per pg pool.',
          unit: 'percentunit',
          width: 6,
          min: 0,
          max: 1,
          threshold: 0.9,
          queries: [{ expr: `max by (pool) (${sel('ballast_pg_pool_utilization_ratio')})`, legend: '{{pool}}' }],
        },
        {
          title: 'Pool connections by state',
          description: 'Connections of each pg pool (total, idle, active) and the pool maximum.',
          unit: 'short',
          width: 6,
          queries: [
            { expr: sumBy('pool, state', sel('ballast_pg_pool_connections')), legend: '{{pool}} {{state}}' },
            { expr: sumBy('pool', sel('ballast_pg_pool_max_connections')), legend: '{{pool}} max' },
          ],
        },
        {
          title: 'Clients waiting for a connection',
          description: 'Saturation of the pool: queries waiting for a free connection.',
          unit: 'short',
          width: 6,
          queries: [{ expr: sumBy('pool', sel('ballast_pg_pool_waiting_clients')), legend: '{{pool}}' }],
        },
        {
          title: 'Pool errors',
          description: 'Errors raised by idle pool clients (lost connections), per second.',
          unit: 'ops',
          width: 6,
          queries: [{ expr: sumBy('pool', rate('ballast_pg_pool_errors_total')), legend: '{{pool}}' }],
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
            { expr: `max by (policy) (${sel('ballast_bulkhead_utilization_ratio')})`, legend: '{{policy}}' },
          ],
        },
        {
          title: 'Bulkhead in flight, queued and limit',
          description: 'Calls running in each bulkhead, calls waiting for a slot (saturation), and the limit.',
          unit: 'short',
          width: 8,
          queries: [
            { expr: sumBy('policy', sel('ballast_bulkhead_in_flight')), legend: 'in flight {{policy}}' },
            { expr: sumBy('policy', sel('ballast_bulkhead_queued')), legend: 'queued {{policy}}' },
            { expr: sumBy('policy', sel('ballast_bulkhead_limit')), legend: 'limit {{policy}}' },
          ],
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
          width: 8,
          min: 0,
          queries: [
            { expr: `max by (policy) (${sel('ballast_concurrency_utilization_ratio')})`, legend: '{{policy}}' },
          ],
        },
        {
          title: 'Policy store errors',
          description: 'Failures of the store behind a policy (e.g. Redis for rate limits), by how the policy failed.',
          unit: 'ops',
          width: 8,
          queries: [
            { expr: sumBy('policy, fail_mode', rate('ballast_policy_store_errors_total')), legend: '{{policy}} fail {{fail_mode}}' },
          ],
        },
        {
          title: 'Telemetry label overflow',
          description: 'Label values collapsed to __overflow__ by the cardinality guard, per metric and label.',
          unit: 'ops',
          width: 8,
          queries: [
            { expr: sumBy('metric, label', rate('ballast_telemetry_label_overflow_total')), legend: '{{metric}} {{label}}' },
          ],
        },
      ],
    },
  ],
};
