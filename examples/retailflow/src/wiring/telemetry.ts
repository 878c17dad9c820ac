import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { Gauge, Histogram } from 'prom-client';
import { reportError, type Clock, type Subscription } from '@ballast/core';
import {
  collectRuntimeMetrics,
  createMetricsRegistry,
  metricsHandler,
  observeBulkhead,
  observeConcurrencyLimiter,
  observePgPool,
  observePolicies,
  observePolicy,
  observeRateLimiter,
  observeSlos,
  redMiddleware,
  type MetricsRegistry,
  type PgPoolLike,
  type SloStatusSource,
} from '@ballast/telemetry';
import type { TelemetryHandle } from '@ballast/telemetry/tracing';
import type { RetailFlowConfig } from '../config.js';
import { startTracing } from '../tracing.js';
import type { Repository } from '../data/index.js';
import { contextOf } from '../http/context.js';
import type { RetailFlowPolicies } from './policies.js';

/** RetailFlow's telemetry: one explicit registry, RED middleware, USE collectors, policy and SLO metrics, traces. */
export interface RetailFlowTelemetry {
  readonly metrics: MetricsRegistry;
  /** Runs first on every request (RED: rate, errors, duration per route). */
  readonly middleware: readonly RequestHandler[];
  /** Serves `/metrics`. */
  readonly metricsHandler: RequestHandler;
  /** Subscribes policy metrics (calls, rejections, breaker state, retries, ...) and the USE gauges. */
  observePolicies(policies: RetailFlowPolicies): void;
  observeSlos(engine: SloStatusSource): void;
  /** USE of the PostgreSQL pool, when the store has one. */
  observeRepository(repo: Repository): void;
  /** One published order event and its outbox lag (`retailflow_outbox_lag_seconds`). */
  recordOutboxLag(lagMs: number): void;
  /**
   * Where `retailflow_outbox_depth`, `retailflow_outbox_oldest_age_seconds` and `retailflow_dlq_depth{queue}` are
   * read at scrape time.
   */
  readEventGauges(read: EventGaugeReaders): void;
  /** Flushes and stops the trace exporter (when tracing is on) and stops collectors. */
  shutdown(): Promise<void>;
}

/**
 * Where the event gauges come from, read separately: the outbox depth comes from the database and must stay
 * visible while the broker (where the DLQ depth comes from) is down, which is when it matters.
 */
export interface EventGaugeReaders {
  readonly outboxDepth: () => Promise<number>;
  /**
   * Age in ms of the oldest unpublished event (0 when the outbox is empty), read from the outbox table. Unlike the
   * lag histogram, which is observed only when an event is published, it grows while the broker refuses publishes.
   */
  readonly outboxOldestAgeMs?: () => Promise<number>;
  readonly dlq: () => Promise<Readonly<Record<string, number>>>;
}

/** Buckets of the outbox lag histogram, in seconds; 30 is the order-event-freshness SLO's threshold. */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Builds RetailFlow's telemetry on its own registry (nothing global): RED middleware (with the tenant label),
 * runtime USE metrics, and RetailFlow's event metrics. Traces are exported over OTLP/HTTP only when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
export function createTelemetry(options: {
  config: RetailFlowConfig;
  clock: Clock;
  /** Tracing started by the caller before the service's modules loaded (see `startTracing`). */
  tracing?: TelemetryHandle;
}): RetailFlowTelemetry {
  const { config } = options;
  const metrics = createMetricsRegistry({ defaultLabels: { service: config.serviceName } });
  collectRuntimeMetrics(metrics);
  const subscriptions: Subscription[] = [];

  // Embedded without `startTracing` first (e.g. in tests), spans of modules loaded earlier are not recorded.
  const tracing = options.tracing ?? startTracing(config);

  // The tenant is known once authentication ran; RED reads it when the response finishes.
  const tenantOfRequest = (req: IncomingMessage) => contextOf(req as Request).tenant?.id;
  const red = redMiddleware(metrics, { tenant: tenantOfRequest }) as unknown as RequestHandler;
  const handler = metricsHandler(metrics);

  const outboxLag = new Histogram({
    name: 'retailflow_outbox_lag_seconds',
    help: 'Time from the transaction that wrote an order event to its publication (order-event-freshness SLO).',
    buckets: LAG_BUCKETS,
    registers: [metrics.prom],
  });
  let readers: EventGaugeReaders | undefined;
  new Gauge({
    name: 'retailflow_outbox_depth',
    help: 'Order events written but not yet published.',
    registers: [metrics.prom],
    async collect() {
      if (!readers) return;
      try {
        this.set(await readers.outboxDepth());
      } catch (error) {
        reportError(error, 'retailflow: reading the outbox depth for /metrics');
      }
    },
  });
  new Gauge({
    name: 'retailflow_outbox_oldest_age_seconds',
    help: 'Age of the oldest order event not yet published (0 when the outbox is empty); grows while the broker is down.',
    registers: [metrics.prom],
    async collect() {
      const read = readers?.outboxOldestAgeMs;
      if (!read) return;
      try {
        const ageMs = await read();
        if (Number.isFinite(ageMs) && ageMs >= 0) this.set(ageMs / 1000);
      } catch (error) {
        reportError(error, 'retailflow: reading the outbox age for /metrics');
      }
    },
  });
  new Gauge({
    name: 'retailflow_dlq_depth',
    help: 'Messages waiting in a dead-letter queue.',
    labelNames: ['queue'],
    registers: [metrics.prom],
    async collect() {
      if (!readers) return;
      try {
        for (const [queue, depth] of Object.entries(await readers.dlq())) this.set({ queue }, depth);
      } catch (error) {
        // The broker is away: the last known depth stays, and the outbox depth above shows the backlog.
        reportError(error, 'retailflow: reading the dead-letter queue depth for /metrics');
      }
    },
  });

  return {
    metrics,
    middleware: [red],
    metricsHandler: (req, res) => {
      void handler(req, res);
    },
    observePolicies(policies) {
      subscriptions.push(
        observePolicies(metrics, policies.observable),
        observeBulkhead(metrics, policies.inventoryBulkhead),
        observeConcurrencyLimiter(metrics, policies.ingressLimiter),
        observeRateLimiter(metrics, policies.tenantLimiter),
      );
      policies.onPolicy((policy) => subscriptions.push(observePolicy(metrics, policy)));
    },
    observeSlos(engine) {
      subscriptions.push(observeSlos(metrics, engine));
    },
    observeRepository(repo) {
      const pool = (repo as Repository & { pool?: PgPoolLike }).pool;
      if (pool) subscriptions.push(observePgPool(metrics, pool, { name: 'retailflow' }));
    },
    recordOutboxLag(lagMs) {
      if (Number.isFinite(lagMs) && lagMs >= 0) outboxLag.observe(lagMs / 1000);
    },
    readEventGauges(read) {
      readers = read;
    },
    async shutdown() {
      for (const s of subscriptions.splice(0)) s.dispose();
      if (tracing) await tracing.shutdown();
    },
  };
}
