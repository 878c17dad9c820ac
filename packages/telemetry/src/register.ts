/**
 * Preload entry: `node --import @ballast/telemetry/register app.js` starts tracing before the application loads,
 * configured entirely by `OTEL_*` environment variables. It registers the ESM loader hook the OpenTelemetry
 * instrumentations need to patch ES modules, and works for CommonJS applications too (`--import` runs before
 * the CommonJS entry point, and `require` is hooked).
 */
import { register } from 'node:module';
import { reportError } from '@ballast/core';
import { startTelemetry } from './tracing/start-telemetry.js';

try {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
} catch (error) {
  reportError(error, 'registering the OpenTelemetry ESM loader hook');
}
startTelemetry();
