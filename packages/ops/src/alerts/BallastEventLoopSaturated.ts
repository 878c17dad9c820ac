import type { AlertSpec } from './alert.js';
import type { AlertContext } from './ops.js';

/** Event loop delay p99 above which a Node.js service is saturated (every callback waits this long). */
export const EVENT_LOOP_LAG_THRESHOLD_SECONDS = 0.2;

/** Event loop utilization above which the loop has no room left for bursts. */
export const EVENT_LOOP_UTILIZATION_THRESHOLD = 0.9;

/** The event loop is saturated: callbacks wait too long to run, so every request is slow. */
export function BallastEventLoopSaturated({ TEST_LABELS, TEST_TARGET, metrics }: AlertContext): AlertSpec {
  return {
    name: 'BallastEventLoopSaturated',
    severity: 'warning',
    expr: `max by (job, instance) (ballast_nodejs_eventloop_utilization_ratio) > ${EVENT_LOOP_UTILIZATION_THRESHOLD}
or
max by (job, instance) (nodejs_eventloop_lag_p99_seconds) > ${EVENT_LOOP_LAG_THRESHOLD_SECONDS}`,
    for: '5m',
    summary: 'Event loop of {{ $labels.instance }} is saturated',
    description: `For 5 minutes the event loop of {{ $labels.instance }} has been busy more than ${EVENT_LOOP_UTILIZATION_THRESHOLD * 100}% of the time or its p99 delay has been above ${EVENT_LOOP_LAG_THRESHOLD_SECONDS * 1000} ms: the process is CPU-bound or blocked, and every request waits in line.`,
    runbook: {
      meaning:
        'Node.js runs every callback on one thread. Event loop utilization is the share of time that thread is busy; event loop delay is how late a timer fires. Utilization above 90% or a p99 delay above 200 ms for 5 minutes means the loop is busy nearly all the time (CPU-heavy work, synchronous I/O, a huge JSON body, long GC pauses).',
      impact:
        'Latency rises on every route at once, timeouts and deadlines fire, health checks can fail, and the adaptive limiter starts shedding. The latency SLOs burn.',
      queries: [
        {
          title: 'Event loop utilization',
          expr: 'max by (instance) (ballast_nodejs_eventloop_utilization_ratio)',
        },
        { title: 'Event loop delay p99', expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds)' },
        { title: 'CPU per instance', expr: 'sum by (instance) (rate(process_cpu_seconds_total[5m]))' },
        { title: 'Time in GC', expr: 'sum by (instance) (rate(nodejs_gc_duration_seconds_sum[5m]))' },
        { title: 'Heap used', expr: 'max by (instance) (nodejs_heap_size_used_bytes)' },
      ],
      panels: [
        { dashboard: 'ballast-use', panel: 'Event loop utilization' },
        { dashboard: 'ballast-use', panel: 'Event loop delay p50 / p99' },
        { dashboard: 'ballast-use', panel: 'Time in GC' },
        { dashboard: 'ballast-use', panel: 'CPU' },
      ],
      curl: [metrics('nodejs_eventloop_lag|nodejs_heap_size_used')],
      steps: [
        'CPU near 1 core with little GC: CPU-bound work. Take a CPU profile (`node --cpu-prof`, or the inspector on a canary) and look for synchronous hot spots.',
        'GC time high and heap near its limit: memory pressure. Compare heap used with the heap limit, look for a leak (heap growing across hours).',
        'Only one instance affected: a hot tenant or a poison request; check the routes with the highest latency.',
      ],
      mitigation: [
        'Scale out to spread the load; the limiter and the shedder protect each instance meanwhile.',
        'Roll back a deploy that started it.',
        'Move CPU-heavy work off the request path (a worker thread or a queue).',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: 'delay above 200 ms for 5 minutes fires; a 3-minute spike is quiet; resolves when the delay drops',
        series: [
          {
            series: `nodejs_eventloop_lag_p99_seconds{${TEST_TARGET}}`,
            values: '0.01x5 0.5x3 0.01x5 0.6x15 0.02x10',
          },
        ],
        firing: [{ at: '25m', labels: { ...TEST_LABELS } }],
        quiet: ['8m', '16m', '35m'],
      },
    ],
  };
}
