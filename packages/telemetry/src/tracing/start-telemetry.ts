import { checkNumber, reportError } from '@ballast/core';
import { type Attributes, context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { type ShutdownSignalOptions, onShutdownSignal } from './shutdown-signals.js';

/** Options for {@link startTelemetry}. Every option has an `OTEL_*` environment equivalent that wins over it. */
export interface TelemetryOptions {
  /**
   * `service.name` of the resource. `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) wins.
   * @default 'unknown_service:node'
   * @example
   * ```ts
   * startTelemetry({ serviceName: 'checkout' });
   * ```
   */
  readonly serviceName?: string;
  /**
   * `service.version` of the resource.
   * @default undefined
   * @example
   * ```ts
   * startTelemetry({ serviceVersion: '1.4.2' });
   * ```
   */
  readonly serviceVersion?: string;
  /**
   * More resource attributes (`deployment.environment.name`, ...). `OTEL_RESOURCE_ATTRIBUTES` is merged too.
   * @default {}
   * @example
   * ```ts
   * startTelemetry({ resourceAttributes: { 'deployment.environment.name': 'prod' } });
   * ```
   */
  readonly resourceAttributes?: Attributes;
  /**
   * Base URL of the OTLP/HTTP receiver; spans go to `<endpoint>/v1/traces` as JSON. When unset, the exporter
   * reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`.
   * @default 'http://localhost:4318'
   * @example
   * ```ts
   * startTelemetry({ endpoint: 'http://otel-collector:4318' });
   * ```
   */
  readonly endpoint?: string;
  /**
   * Exporter to use instead of OTLP/HTTP (e.g. an `InMemorySpanExporter` in tests).
   * @default OTLP/HTTP JSON exporter, or what `OTEL_TRACES_EXPORTER` says (`otlp`, `console`, `none`)
   * @example
   * ```ts
   * startTelemetry({ exporter: new InMemorySpanExporter() });
   * ```
   */
  readonly exporter?: SpanExporter;
  /**
   * Share of new traces to sample (parent-based: a sampled parent is always followed). Ignored when `sampler` is
   * given; when neither is given, `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` decide.
   * @default 1 (parentbased_always_on)
   * @example
   * ```ts
   * startTelemetry({ sampleRatio: 0.1 });
   * ```
   */
  readonly sampleRatio?: number;
  /**
   * A sampler of your own.
   * @default undefined
   * @example
   * ```ts
   * startTelemetry({ sampler: new AlwaysOnSampler() });
   * ```
   */
  readonly sampler?: Sampler;
  /**
   * Inbound paths that get no server span (exact match on the path without query).
   * @default ['/metrics']
   * @example
   * ```ts
   * startTelemetry({ ignorePaths: ['/metrics', '/healthz'] });
   * ```
   */
  readonly ignorePaths?: readonly string[];
  /**
   * Instrumentations added to the HTTP and express ones.
   * @default []
   * @example
   * ```ts
   * startTelemetry({ instrumentations: [new PgInstrumentation()] });
   * ```
   */
  readonly instrumentations?: readonly Instrumentation[];
  /**
   * Flush and shut down on SIGTERM/SIGINT (then let the signal end the process, unless the application has its own
   * listener). `false` to wire shutdown yourself, or options to choose signals and the signal source.
   * @default true
   * @example
   * ```ts
   * startTelemetry({ handleSignals: false });
   * ```
   */
  readonly handleSignals?: boolean | ShutdownSignalOptions;
  /**
   * Longest wait for the final flush during shutdown, in milliseconds.
   * @default 5000
   * @example
   * ```ts
   * startTelemetry({ shutdownTimeoutMs: 2000 });
   * ```
   */
  readonly shutdownTimeoutMs?: number;
}

/** What {@link startTelemetry} returns. */
export interface TelemetryHandle {
  /** False when `OTEL_SDK_DISABLED=true`: nothing was started and every method is a no-op. */
  readonly enabled: boolean;
  /** Exports every finished span now (tests call this instead of waiting). */
  forceFlush(): Promise<void>;
  /** Flushes, shuts the SDK down and removes signal listeners; safe to call more than once. */
  shutdown(): Promise<void>;
}

let running: TelemetryHandle | undefined;

function envList(name: string): string[] {
  return (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '' && s !== 'null');
}

function isTrue(name: string): boolean {
  return (process.env[name] ?? '').trim().toLowerCase() === 'true';
}

/**
 * Starts OpenTelemetry tracing for the process: the NodeSDK with an OTLP/HTTP (JSON) trace exporter, the service
 * resource, HTTP and express instrumentation, a parent-based sampler, W3C trace context propagation, and a graceful
 * flush on SIGTERM/SIGINT. Honours `OTEL_SDK_DISABLED`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`/`HEADERS`/`PROTOCOL`, `OTEL_TRACES_SAMPLER(_ARG)`,
 * `OTEL_PROPAGATORS` and `OTEL_BSP_*`. Metrics stay on Prometheus (no OTLP metric push unless
 * `OTEL_METRICS_EXPORTER` asks for it). Load it before the application (see `@ballast/telemetry/register`) so the
 * instrumentation can patch `http` and `express` as they load. One instance per process: a second call before
 * `shutdown()` throws.
 *
 * @example
 * ```ts
 * import { startTelemetry } from '@ballast/telemetry/tracing';
 * const telemetry = startTelemetry({ serviceName: 'checkout', sampleRatio: 0.2 });
 * // on exit: await telemetry.shutdown();
 * ```
 */
export function startTelemetry(options: TelemetryOptions = {}): TelemetryHandle {
  if (running)
    throw new Error('startTelemetry() was already called; call shutdown() on the first handle first');
  const shutdownTimeoutMs = checkNumber('shutdownTimeoutMs', options.shutdownTimeoutMs, 5000, { min: 0 });
  if (options.sampleRatio !== undefined)
    checkNumber('sampleRatio', options.sampleRatio, 1, { min: 0, max: 1 });
  if (isTrue('OTEL_SDK_DISABLED')) {
    return { enabled: false, forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  }

  const processors = spanProcessors(options);
  const sampler =
    options.sampler ??
    (options.sampleRatio === undefined
      ? undefined
      : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }));
  const ignore = new Set(options.ignorePaths ?? ['/metrics']);
  const resource: Attributes = { ...(options.resourceAttributes ?? {}) };
  if (options.serviceVersion !== undefined) resource[ATTR_SERVICE_VERSION] = options.serviceVersion;
  const serviceName = process.env.OTEL_SERVICE_NAME ? undefined : options.serviceName;

  const sdk = new NodeSDK({
    resource: resourceFromAttributes(resource),
    ...(serviceName === undefined ? {} : { serviceName }),
    ...(processors === undefined ? {} : { spanProcessors: processors }),
    ...(sampler === undefined ? {} : { sampler }),
    ...(process.env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(process.env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => ignore.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new ExpressInstrumentation(),
      ...(options.instrumentations ?? []),
    ],
  });
  sdk.start();

  let signalHook: { dispose(): void } | undefined;
  let stopped: Promise<void> | undefined;
  const forceFlush = async (): Promise<void> => {
    if (processors) {
      await Promise.all(processors.map((p) => p.forceFlush()));
      return;
    }
    const provider = trace.getTracerProvider() as {
      getDelegate?: () => { forceFlush?: () => Promise<void> };
    };
    await provider.getDelegate?.().forceFlush?.();
  };
  const handle: TelemetryHandle = {
    enabled: true,
    forceFlush,
    shutdown() {
      stopped ??= (async () => {
        signalHook?.dispose();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            sdk.shutdown(),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, shutdownTimeoutMs);
              timer.unref();
            }),
          ]);
        } catch (error) {
          reportError(error, 'telemetry shutdown');
        } finally {
          clearTimeout(timer);
          trace.disable();
          context.disable();
          propagation.disable();
          running = undefined;
        }
      })();
      return stopped;
    },
  };
  const signals = options.handleSignals ?? true;
  if (signals !== false)
    signalHook = onShutdownSignal(() => handle.shutdown(), signals === true ? {} : signals);
  running = handle;
  return handle;
}

/**
 * The span processors Ballast builds itself, or `undefined` to let the NodeSDK build them from the environment
 * (exporters or protocols beyond OTLP/HTTP JSON and console, e.g. `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`).
 */
function spanProcessors(options: TelemetryOptions): SpanProcessor[] | undefined {
  if (options.exporter) return [new BatchSpanProcessor(options.exporter)];
  const names = envList('OTEL_TRACES_EXPORTER');
  if (names[0] === 'none' && names.length === 1) return [];
  const protocol = (
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/json'
  ).trim();
  const wanted = names.length === 0 ? ['otlp'] : names;
  if (
    wanted.some((n) => n !== 'otlp' && n !== 'console') ||
    (wanted.includes('otlp') && protocol !== 'http/json')
  ) {
    return undefined;
  }
  return wanted.map((name) => {
    if (name === 'console') return new SimpleSpanProcessor(new ConsoleSpanExporter());
    const url = options.endpoint ? `${options.endpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
    return new BatchSpanProcessor(new OTLPTraceExporter(url === undefined ? {} : { url }));
  });
}
