import { startTelemetry, type TelemetryHandle } from '@ballast/telemetry/tracing';
import type { RetailFlowConfig } from './config.js';

/**
 * Starts OpenTelemetry tracing (OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`) when the endpoint is configured.
 * Call it before importing express or `node:http`: the HTTP and express instrumentations only see modules loaded
 * after they are registered, which is why `main.ts` loads the service with a dynamic `import()` afterwards.
 * Returns `undefined` when tracing is off.
 *
 * @example
 * ```ts
 * const tracing = startTracing(config);
 * const { startRetailFlow } = await import('./service.js');
 * await startRetailFlow(config, { tracing });
 * ```
 */
export function startTracing(config: RetailFlowConfig): TelemetryHandle | undefined {
  if (config.otlpEndpoint === undefined) return undefined;
  return startTelemetry({
    serviceName: config.serviceName,
    endpoint: config.otlpEndpoint,
    ignorePaths: ['/metrics', '/healthz', '/readyz'],
    handleSignals: false, // RetailFlow's own shutdown flushes after draining requests
  });
}
