/**
 * The metric catalog: every metric Ballast telemetry emits (and every prom-client default metric it relies on),
 * with its type, unit, labels, meaning and dashboard group. Dashboards, alert rules and runbooks are generated from
 * this list, and a test scrapes a registry with everything enabled and fails when an emitted metric is missing here.
 */

/** Prometheus metric types used by Ballast. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * The dashboard group a metric belongs to: `RED` (rate, errors, duration of requests), `USE` (utilization,
 * saturation, errors of resources, including the telemetry pipeline itself), `resilience` (policies) and `SLO`.
 */
export type DashboardGroup = 'RED' | 'USE' | 'resilience' | 'SLO';

/** Unit of a metric's value (the base unit; names end with it where Prometheus conventions ask for it). */
export type MetricUnit = 'seconds' | 'bytes' | 'ratio' | 'requests' | 'connections' | 'events' | 'info' | '1';

/** One label of a catalogued metric. */
export interface MetricLabel {
  readonly name: string;
  /** What the label's value means. */
  readonly description: string;
  /** The closed set of values, when there is one (used by generators to build selectors). */
  readonly values?: readonly string[];
  /** True when the label is only present on some series (e.g. `error_type` only on failed requests). */
  readonly optional?: boolean;
}

/** One catalogued metric family. */
export interface MetricSpec {
  /** Family name as it appears in the Prometheus text format (counters include `_total`). */
  readonly name: string;
  readonly type: MetricType;
  readonly unit: MetricUnit;
  readonly labels: readonly MetricLabel[];
  /** The HELP text: what one sample means. */
  readonly help: string;
  readonly group: DashboardGroup;
  /** `ballast` for metrics this package defines; `prom-client` for the default metrics it reuses. */
  readonly source: 'ballast' | 'prom-client';
  /** Histogram bucket upper bounds (histograms only). */
  readonly buckets?: readonly number[];
  /** The OpenTelemetry semantic-convention instrument this metric mirrors, if any. */
  readonly semconv?: string;
  /** Only emitted on these platforms (prom-client reads some values from `/proc`). */
  readonly platforms?: readonly NodeJS.Platform[];
}

/**
 * Bucket upper bounds (seconds) of `http.server.request.duration` in the OpenTelemetry HTTP semantic conventions.
 * Used for every Ballast duration histogram.
 */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** The label value used for any label value past its cardinality cap. */
export const OVERFLOW_VALUE = '__overflow__';

/** The `http_route` value of a request that matched no route (the raw path is never used). */
export const UNMATCHED_ROUTE = '__unmatched__';

/** The `http_request_method` value of any method outside the HTTP semantic conventions' known set. */
export const OTHER_METHOD = '_OTHER';

const HTTP_METHODS = [
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
  OTHER_METHOD,
];

const l = (name: string, description: string, extra: Omit<MetricLabel, 'name' | 'description'> = {}) =>
  Object.freeze({ name, description, ...extra });

const POLICY = l(
  'policy',
  'Name of the Ballast policy, as given in its options (bounded by the cardinality guard).',
);
const SLO = l('slo', 'Name of the SLO.');
const SERVICE = l('service', 'Service the SLO belongs to.');
const METHOD = l('http_request_method', 'HTTP method; methods outside the known set become `_OTHER`.', {
  values: HTTP_METHODS,
});
const STATUS = l(
  'http_response_status_code',
  'HTTP status code sent; empty when the client went away before a response was sent.',
);
const ERROR_TYPE = l(
  'error_type',
  'Why the request failed: the error class name (e.g. `TypeError`) when an error was raised, the status code ' +
    'for 5xx responses without one, `aborted` when the client closed the connection first, `timeout`.',
  { optional: true },
);

function spec(s: MetricSpec): MetricSpec {
  return Object.freeze(s);
}
function ballast(
  name: string,
  type: MetricType,
  unit: MetricUnit,
  group: DashboardGroup,
  labels: readonly MetricLabel[],
  help: string,
  extra: Partial<MetricSpec> = {},
): MetricSpec {
  return spec({ name, type, unit, group, labels, help, source: 'ballast', ...extra });
}
function prom(
  name: string,
  type: MetricType,
  unit: MetricUnit,
  labels: readonly MetricLabel[],
  help: string,
  extra: Partial<MetricSpec> = {},
): MetricSpec {
  return spec({ name, type, unit, group: 'USE', labels, help, source: 'prom-client', ...extra });
}
const linux: Partial<MetricSpec> = { platforms: ['linux'] };
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

/**
 * Every metric Ballast telemetry emits, in dashboard order. Names are stable API: dashboards, recording rules,
 * alerts and runbooks refer to them.
 *
 * @example
 * ```ts
 * import { METRIC_CATALOG } from '@ballast/telemetry';
 * const red = METRIC_CATALOG.filter((m) => m.group === 'RED').map((m) => m.name);
 * ```
 */
export const METRIC_CATALOG: readonly MetricSpec[] = Object.freeze([
  // ----- RED: inbound HTTP -----------------------------------------------------------------------------------
  ballast(
    'http_server_request_duration_seconds',
    'histogram',
    'seconds',
    'RED',
    [
      METHOD,
      l(
        'http_route',
        'Full matched route template including router mount paths (e.g. `/api/users/:id`); ' +
          '`__unmatched__` when no route matched.',
      ),
      STATUS,
      ERROR_TYPE,
      l(
        'tenant',
        'Tenant id, when the middleware is given a tenant function (bounded by the cardinality guard).',
        {
          optional: true,
        },
      ),
    ],
    'Duration of inbound HTTP requests, from the first middleware until the response finished or the client ' +
      'went away. Rate = requests, error_type = errors, buckets = duration.',
    { buckets: DURATION_BUCKETS, semconv: 'http.server.request.duration' },
  ),
  ballast(
    'http_server_active_requests',
    'gauge',
    'requests',
    'RED',
    [
      METHOD,
      l('url_scheme', 'URI scheme of the request (`http` or `https`).', { values: ['http', 'https'] }),
    ],
    'Inbound HTTP requests currently being handled.',
    { semconv: 'http.server.active_requests' },
  ),
  ballast(
    'http_client_request_duration_seconds',
    'histogram',
    'seconds',
    'RED',
    [
      METHOD,
      l(
        'server_address',
        'Host called (bounded: an allow-list and the cardinality guard; others are `_OTHER`).',
      ),
      STATUS,
      ERROR_TYPE,
    ],
    'Duration of outbound HTTP requests until the response headers arrived or the request failed.',
    { buckets: DURATION_BUCKETS, semconv: 'http.client.request.duration' },
  ),

  // ----- USE: runtime (Ballast) -----------------------------------------------------------------------------
  ballast(
    'ballast_nodejs_eventloop_utilization_ratio',
    'gauge',
    'ratio',
    'USE',
    [],
    'Event-loop utilization between two scrapes (0..1): the share of time the loop was busy, from ' +
      '`performance.eventLoopUtilization()`. Near 1 means the process is CPU-saturated.',
  ),
  // ----- USE: Ballast resources --------------------------------------------------------------------------------
  ballast(
    'ballast_bulkhead_in_flight',
    'gauge',
    'requests',
    'USE',
    [POLICY],
    'Calls running inside a bulkhead.',
  ),
  ballast(
    'ballast_bulkhead_queued',
    'gauge',
    'requests',
    'USE',
    [POLICY],
    'Calls waiting for a bulkhead slot (saturation).',
  ),
  ballast(
    'ballast_bulkhead_limit',
    'gauge',
    'requests',
    'USE',
    [POLICY],
    'Concurrent calls a bulkhead allows.',
  ),
  ballast(
    'ballast_bulkhead_utilization_ratio',
    'gauge',
    'ratio',
    'USE',
    [POLICY],
    'Bulkhead in-flight calls divided by its limit (0..1).',
  ),
  ballast(
    'ballast_bulkhead_rejections_total',
    'counter',
    'requests',
    'USE',
    [
      POLICY,
      l('reason', 'Why the call was refused.', {
        values: ['bulkhead-full', 'queue-timeout', 'deadline-exceeded', 'shed'],
      }),
    ],
    'Calls a bulkhead refused (errors of the bulkhead resource).',
  ),
  ballast(
    'ballast_concurrency_limit',
    'gauge',
    'requests',
    'USE',
    [POLICY],
    'Current limit of an adaptive concurrency limiter.',
  ),
  ballast(
    'ballast_concurrency_in_flight',
    'gauge',
    'requests',
    'USE',
    [
      POLICY,
      l('priority', 'Priority class of the in-flight calls.', {
        values: ['critical', 'default', 'sheddable'],
      }),
    ],
    'Calls running inside a concurrency limiter, per priority class.',
  ),
  ballast(
    'ballast_concurrency_queued',
    'gauge',
    'requests',
    'USE',
    [
      POLICY,
      l('priority', 'Priority class of the waiting calls.', {
        values: ['critical', 'default', 'sheddable'],
      }),
    ],
    "Calls waiting in a concurrency limiter's queue for a permit, per priority class: its saturation.",
  ),
  ballast(
    'ballast_concurrency_tenant_queued',
    'gauge',
    'requests',
    'USE',
    [POLICY],
    "Calls waiting for one of their own tenant's places in a concurrency limiter: a tenant over its share, not the limiter's saturation.",
  ),
  ballast(
    'ballast_concurrency_utilization_ratio',
    'gauge',
    'ratio',
    'USE',
    [POLICY],
    'Concurrency limiter in-flight calls divided by its current limit (0..1; above 1 while the limit shrinks).',
  ),
  ballast(
    'ballast_load_shed_total',
    'counter',
    'requests',
    'USE',
    [
      POLICY,
      l('priority', 'Priority class of the shed call (`default` when unknown).', {
        values: ['critical', 'default', 'sheddable'],
      }),
    ],
    'Calls shed by a concurrency limiter to protect the service: refused at once, or dropped from its queue.',
  ),
  ballast(
    'ballast_rate_limit_decisions_total',
    'counter',
    'requests',
    'USE',
    [POLICY, l('decision', 'What the rate limiter decided.', { values: ['allowed', 'limited'] })],
    "Rate limiter decisions; limited / total is the limiter's saturation.",
  ),
  ballast(
    'ballast_policy_store_errors_total',
    'counter',
    'events',
    'USE',
    [POLICY, l('fail_mode', 'What the policy did about it.', { values: ['open', 'closed'] })],
    'Failures of the store behind a policy (e.g. Redis for a distributed rate limiter).',
  ),
  ballast(
    'ballast_pg_pool_connections',
    'gauge',
    'connections',
    'USE',
    [
      l('pool', 'Name given to the pool adapter.'),
      l('state', 'Connection state.', { values: ['total', 'idle', 'active'] }),
    ],
    'Connections of a PostgreSQL pool by state (`active` = total - idle).',
  ),
  ballast(
    'ballast_pg_pool_max_connections',
    'gauge',
    'connections',
    'USE',
    [l('pool', 'Name given to the pool adapter.')],
    'Maximum connections of a PostgreSQL pool (from its options), when known.',
  ),
  ballast(
    'ballast_pg_pool_waiting_clients',
    'gauge',
    'requests',
    'USE',
    [l('pool', 'Name given to the pool adapter.')],
    'Queries waiting for a connection from a PostgreSQL pool (saturation).',
  ),
  ballast(
    'ballast_pg_pool_utilization_ratio',
    'gauge',
    'ratio',
    'USE',
    [l('pool', 'Name given to the pool adapter.')],
    'Active connections divided by the pool maximum (0..1), when the maximum is known.',
  ),
  ballast(
    'ballast_pg_pool_errors_total',
    'counter',
    'events',
    'USE',
    [l('pool', 'Name given to the pool adapter.')],
    'Errors a PostgreSQL pool emitted on idle clients (`error` events).',
  ),
  ballast(
    'ballast_telemetry_label_overflow_total',
    'counter',
    'events',
    'USE',
    [l('metric', 'Metric whose label hit its cap.'), l('label', 'Label that hit its cap.')],
    'Label values collapsed to `__overflow__` because the label reached its cardinality cap.',
  ),

  // ----- resilience: policies ---------------------------------------------------------------------------------
  ballast(
    'ballast_policy_calls_total',
    'counter',
    'requests',
    'resilience',
    [POLICY, l('outcome', 'How the call ended.', { values: ['success', 'failure', 'rejected'] })],
    'Calls through a policy by outcome.',
  ),
  ballast(
    'ballast_policy_call_duration_seconds',
    'histogram',
    'seconds',
    'resilience',
    [POLICY, l('outcome', 'How the call ended.', { values: ['success', 'failure'] })],
    "Duration of calls through a policy, measured with the policy's clock.",
    { buckets: DURATION_BUCKETS },
  ),
  ballast(
    'ballast_policy_rejections_total',
    'counter',
    'requests',
    'resilience',
    [
      POLICY,
      l('reason', 'Why the policy refused the call.', {
        values: [
          'circuit-open',
          'circuit-isolated',
          'half-open-full',
          'bulkhead-full',
          'queue-timeout',
          'shed',
          'rate-limited',
          'throttled',
          'deadline-exceeded',
        ],
      }),
    ],
    'Calls a policy refused before running them, by reason.',
  ),
  ballast(
    'ballast_circuit_breaker_state',
    'gauge',
    'info',
    'resilience',
    [POLICY, l('state', 'Breaker state.', { values: ['closed', 'open', 'half-open', 'isolated'] })],
    '1 for the state a circuit breaker is in, 0 for the others.',
  ),
  ballast(
    'ballast_circuit_breaker_transitions_total',
    'counter',
    'events',
    'resilience',
    [
      POLICY,
      l('from', 'State before.', { values: ['closed', 'open', 'half-open', 'isolated'] }),
      l('to', 'State after.', { values: ['closed', 'open', 'half-open', 'isolated'] }),
    ],
    'Circuit breaker state changes.',
  ),
  ballast(
    'ballast_retry_attempts_total',
    'counter',
    'events',
    'resilience',
    [POLICY],
    'Retries made (not counting first attempts).',
  ),
  ballast(
    'ballast_retry_budget_exhausted_total',
    'counter',
    'events',
    'resilience',
    [POLICY],
    'Retries skipped because the retry budget was spent.',
  ),
  ballast(
    'ballast_timeouts_total',
    'counter',
    'events',
    'resilience',
    [POLICY],
    'Timeouts and deadlines that fired.',
  ),
  ballast(
    'ballast_fallbacks_total',
    'counter',
    'events',
    'resilience',
    [POLICY],
    'Degraded results served by a fallback.',
  ),
  ballast(
    'ballast_cache_results_total',
    'counter',
    'events',
    'resilience',
    [
      POLICY,
      l('result', 'How the cache or single-flight answered.', { values: ['hit', 'miss', 'stale', 'shared'] }),
    ],
    'Cache and single-flight lookups by result.',
  ),
  ballast(
    'ballast_chaos_injections_total',
    'counter',
    'events',
    'resilience',
    [POLICY, l('fault', 'Fault injected.', { values: ['latency', 'error', 'result'] })],
    'Faults injected by a chaos policy.',
  ),

  // ----- SLO ----------------------------------------------------------------------------------------------------
  ballast(
    'ballast_slo_objective_ratio',
    'gauge',
    'ratio',
    'SLO',
    [SLO, SERVICE],
    'Target of the SLO (e.g. 0.999).',
  ),
  ballast(
    'ballast_slo_error_budget_remaining_ratio',
    'gauge',
    'ratio',
    'SLO',
    [SLO, SERVICE],
    'Share of the error budget left in the SLO window (1 = untouched, 0 or below = exhausted).',
  ),
  ballast(
    'ballast_slo_error_budget_remaining_events',
    'gauge',
    'events',
    'SLO',
    [SLO, SERVICE],
    'Bad events the SLO can still absorb in its window.',
  ),
  ballast(
    'ballast_slo_burn_rate',
    'gauge',
    '1',
    'SLO',
    [SLO, SERVICE, l('window', 'Burn-rate window (e.g. `5m`, `1h`).')],
    'Error-budget burn rate over a window (1 = spending exactly the budget over the SLO window).',
  ),
  ballast(
    'ballast_slo_sli_ratio',
    'gauge',
    'ratio',
    'SLO',
    [SLO, SERVICE, l('window', 'Window of the SLI: a burn-rate window, or `slo` for the whole SLO window.')],
    'Good events divided by valid events over a window; absent while a window has no events.',
  ),
  ballast(
    'ballast_slo_alert_firing',
    'gauge',
    'info',
    'SLO',
    [SLO, SERVICE, l('severity', 'Alert severity.', { values: ['page', 'ticket'] })],
    '1 when a multi-window burn-rate alert of that severity is firing, else 0.',
  ),
  ballast(
    'ballast_slo_time_to_exhaustion_seconds',
    'gauge',
    'seconds',
    'SLO',
    [SLO, SERVICE],
    'Time until the error budget runs out at the current burn rate; absent when it is not being spent.',
  ),
  ballast(
    'ballast_slo_policy_state',
    'gauge',
    'info',
    'SLO',
    [SLO, SERVICE, l('state', 'Error-budget policy state.', { values: ['ok', 'warning', 'exhausted'] })],
    '1 for the error-budget policy state the SLO is in, 0 for the others.',
  ),

  // ----- USE: prom-client default metrics (collectDefaultMetrics) -------------------------------------------------
  prom('process_cpu_user_seconds_total', 'counter', 'seconds', [], 'User CPU time spent (CPU utilization).'),
  prom('process_cpu_system_seconds_total', 'counter', 'seconds', [], 'System CPU time spent.'),
  prom(
    'process_cpu_seconds_total',
    'counter',
    'seconds',
    [],
    'User and system CPU time spent; rate() is CPU utilization in cores.',
  ),
  prom(
    'process_start_time_seconds',
    'gauge',
    'seconds',
    [],
    'Start time of the process since the Unix epoch.',
  ),
  prom('process_resident_memory_bytes', 'gauge', 'bytes', [], 'Resident memory size.'),
  prom('process_virtual_memory_bytes', 'gauge', 'bytes', [], 'Virtual memory size.', linux),
  prom('process_heap_bytes', 'gauge', 'bytes', [], 'Process heap size (from /proc).', linux),
  prom(
    'process_open_fds',
    'gauge',
    '1',
    [],
    'Open file descriptors (utilization against process_max_fds).',
    linux,
  ),
  prom('process_max_fds', 'gauge', '1', [], 'Maximum number of open file descriptors.', linux),
  prom(
    'nodejs_eventloop_lag_seconds',
    'gauge',
    'seconds',
    [],
    'Event-loop lag measured by a timer at scrape time.',
  ),
  prom(
    'nodejs_eventloop_lag_min_seconds',
    'gauge',
    'seconds',
    [],
    'Minimum event-loop delay since the previous scrape.',
  ),
  prom(
    'nodejs_eventloop_lag_max_seconds',
    'gauge',
    'seconds',
    [],
    'Maximum event-loop delay since the previous scrape.',
  ),
  prom(
    'nodejs_eventloop_lag_mean_seconds',
    'gauge',
    'seconds',
    [],
    'Mean event-loop delay since the previous scrape.',
  ),
  prom(
    'nodejs_eventloop_lag_stddev_seconds',
    'gauge',
    'seconds',
    [],
    'Standard deviation of event-loop delay.',
  ),
  prom(
    'nodejs_eventloop_lag_p50_seconds',
    'gauge',
    'seconds',
    [],
    'Median event-loop delay (saturation of the loop).',
  ),
  prom('nodejs_eventloop_lag_p90_seconds', 'gauge', 'seconds', [], '90th percentile event-loop delay.'),
  prom(
    'nodejs_eventloop_lag_p99_seconds',
    'gauge',
    'seconds',
    [],
    '99th percentile event-loop delay (saturation of the loop).',
  ),
  prom(
    'nodejs_active_resources',
    'gauge',
    '1',
    [l('type', 'Async resource type.')],
    'Active resources keeping the event loop alive, by type.',
  ),
  prom('nodejs_active_resources_total', 'gauge', '1', [], 'Active resources keeping the event loop alive.'),
  prom(
    'nodejs_active_handles',
    'gauge',
    '1',
    [l('type', 'libuv handle type (C++ class name).')],
    'Active libuv handles by type.',
  ),
  prom('nodejs_active_handles_total', 'gauge', '1', [], 'Active libuv handles (sockets, timers, servers).'),
  prom(
    'nodejs_active_requests',
    'gauge',
    '1',
    [l('type', 'libuv request type.')],
    'Active libuv requests by type.',
  ),
  prom('nodejs_active_requests_total', 'gauge', '1', [], 'Active libuv requests (e.g. file system, DNS).'),
  prom('nodejs_heap_size_total_bytes', 'gauge', 'bytes', [], 'V8 heap size.'),
  prom(
    'nodejs_heap_size_used_bytes',
    'gauge',
    'bytes',
    [],
    'V8 heap used (utilization against nodejs_heap_size_total_bytes).',
  ),
  prom(
    'nodejs_external_memory_bytes',
    'gauge',
    'bytes',
    [],
    'Memory used by C++ objects bound to JavaScript (Buffers).',
  ),
  prom(
    'nodejs_heap_space_size_total_bytes',
    'gauge',
    'bytes',
    [l('space', 'V8 heap space.')],
    'V8 heap space size.',
  ),
  prom(
    'nodejs_heap_space_size_used_bytes',
    'gauge',
    'bytes',
    [l('space', 'V8 heap space.')],
    'V8 heap space used.',
  ),
  prom(
    'nodejs_heap_space_size_available_bytes',
    'gauge',
    'bytes',
    [l('space', 'V8 heap space.')],
    'V8 heap space available.',
  ),
  prom(
    'nodejs_version_info',
    'gauge',
    'info',
    [
      l('version', 'Node.js version.'),
      l('major', 'Major version.'),
      l('minor', 'Minor version.'),
      l('patch', 'Patch version.'),
    ],
    'Node.js version (value is always 1).',
  ),
  prom(
    'nodejs_gc_duration_seconds',
    'histogram',
    'seconds',
    [l('kind', 'Garbage collection kind.', { values: ['major', 'minor', 'incremental', 'weakcb'] })],
    'Garbage collection pauses by kind.',
    { buckets: GC_BUCKETS },
  ),
]);

const byName = new Map(METRIC_CATALOG.map((m) => [m.name, m]));

/**
 * Looks up a metric in {@link METRIC_CATALOG}; `undefined` when it is not catalogued.
 *
 * @example
 * ```ts
 * import { catalogMetric } from '@ballast/telemetry';
 * catalogMetric('ballast_slo_burn_rate')?.labels.map((l) => l.name); // ['slo', 'service', 'window']
 * ```
 */
export function catalogMetric(name: string): MetricSpec | undefined {
  return byName.get(name);
}

/**
 * Like {@link catalogMetric} but throws for a name that is not catalogued (a programming error in Ballast).
 *
 * @example
 * ```ts
 * requireCatalogMetric('ballast_policy_calls_total').type; // 'counter'
 * ```
 */
export function requireCatalogMetric(name: string): MetricSpec {
  const found = byName.get(name);
  if (!found) throw new Error(`Metric ${name} is not in the Ballast metric catalog`);
  return found;
}
