export type { DashboardGroup, MetricLabel, MetricSpec, MetricType, MetricUnit } from './catalog.js';
export {
  DURATION_BUCKETS,
  METRIC_CATALOG,
  OTHER_METHOD,
  OVERFLOW_VALUE,
  UNMATCHED_ROUTE,
  catalogMetric,
  requireCatalogMetric,
} from './catalog.js';
export type { CardinalityOptions, OverflowListener } from './cardinality-guard.js';
export { CardinalityGuard, LabelCap } from './cardinality-guard.js';
export type { ExemplarLabels } from './histogram.js';
export { BallastHistogram } from './histogram.js';
export type { GaugeCollector, MetricsRegistryOptions } from './metrics-registry.js';
export { MetricsRegistry, createMetricsRegistry } from './metrics-registry.js';
export type { ExpositionFormat, RenderOptions } from './exposition.js';
export {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  formatValue,
  negotiateFormat,
  renderMetrics,
} from './exposition.js';
export type { MetricsRequestHandler } from './metrics-handler.js';
export { metricsHandler } from './metrics-handler.js';
export type { RedMiddleware, RedOptions } from './http/red-middleware.js';
export { redMiddleware } from './http/red-middleware.js';
export type { ExpressAppLike, InstrumentAppOptions } from './http/instrument-app.js';
export { instrumentApp } from './http/instrument-app.js';
export { normalizeMethod } from './http/method.js';
export { joinTemplate, routeOf, setRoute } from './http/route-capture.js';
export type {
  ClientRequestHandle,
  ClientRequestResult,
  HttpClientMetrics,
  HttpClientOptions,
  InstrumentFetchOptions,
} from './http/client.js';
export { httpClientMetrics, instrumentFetch } from './http/client.js';
export type { RuntimeMetricsOptions } from './use/runtime.js';
export { collectRuntimeMetrics } from './use/runtime.js';
export type { BulkheadLike } from './use/bulkhead.js';
export { observeBulkhead } from './use/bulkhead.js';
export type { ConcurrencyLimiterLike } from './use/concurrency-limiter.js';
export { observeConcurrencyLimiter } from './use/concurrency-limiter.js';
export { observeRateLimiter } from './use/rate-limiter.js';
export type { PgPoolLike, PgPoolOptions } from './use/pg-pool.js';
export { observePgPool } from './use/pg-pool.js';
export type { PolicyLike, PolicyMetricsOptions } from './policy/policy-metrics.js';
export { observePolicies, observePolicy } from './policy/policy-metrics.js';
export type {
  CockatielEvent,
  CockatielFailureReason,
  CockatielObserveOptions,
  CockatielPolicyLike,
  CockatielPolicyView,
} from './policy/cockatiel.js';
export { fromCockatiel, observeCockatiel } from './policy/cockatiel.js';
export type { SloStatusLike, SloStatusSource } from './slo/slo-metrics.js';
export { observeSlos } from './slo/slo-metrics.js';
export type { ShutdownSignalOptions, SignalTarget } from './tracing/shutdown-signals.js';
export { onShutdownSignal } from './tracing/shutdown-signals.js';
export type { LogLevel, LogMethod, LoggerLike } from './logs/logger.js';
export type { TraceLogFields } from './logs/trace-context.js';
export { traceLogMixin } from './logs/trace-context.js';
export type { HttpLogLevel } from './logs/http-log-level.js';
export { httpLogLevel } from './logs/http-log-level.js';
export type { RequestLogOptions, RequestLogSettings } from './logs/request-log.js';
export { requestLogOptions } from './logs/request-log.js';
export type { RateLimitedLogOptions, RateLimitedLogger } from './logs/rate-limited.js';
export { rateLimitedLogger } from './logs/rate-limited.js';
export type { PolicyLogOptions } from './logs/policy-log.js';
export { logPolicyEvents } from './logs/policy-log.js';
