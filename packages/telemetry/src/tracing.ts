/**
 * `@ballast/telemetry/tracing`: OpenTelemetry tracing for the process (the NodeSDK, the OTLP/HTTP exporter, HTTP and
 * express instrumentation). A subpath of its own so that services that only want metrics never load the tracing
 * SDK: `@ballast/telemetry` needs only `@opentelemetry/api` and prom-client at run time.
 */
export type { TelemetryHandle, TelemetryOptions } from './tracing/start-telemetry.js';
export { startTelemetry } from './tracing/start-telemetry.js';
