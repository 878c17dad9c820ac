import { setErrorHandler, systemClock } from '@ballast/core';
import { loadConfig, type RetailFlowConfig } from './config.js';
import { startTracing } from './tracing.js';

// `npm start`: RetailFlow on embedded defaults (or what the environment says), stopped gracefully on SIGTERM/SIGINT.
let config: RetailFlowConfig;
try {
  config = loadConfig();
} catch (error) {
  console.error(`retailflow: bad configuration: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}

// Tracing first, then the service: instrumentation only patches modules loaded after it starts.
const tracing = startTracing(config);
const { createLogger, logSwallowedErrors } = await import('./wiring/logging.js');
let logger: ReturnType<typeof createLogger>;
try {
  logger = createLogger({ service: config.serviceName, level: process.env.LOG_LEVEL });
} catch (error) {
  console.error(`retailflow: bad configuration: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
// Errors Ballast swallows to protect a request (a listener, a gauge) become rate-limited warnings in the JSON log.
setErrorHandler(logSwallowedErrors(logger, systemClock));
const { banner, startRetailFlow } = await import('./service.js');
const service = await startRetailFlow(config, { logger, ...(tracing ? { tracing } : {}) });
console.log(banner(service));

let signals = 0;
const stop = (signal: NodeJS.Signals) => {
  signals++;
  if (signals > 1) {
    console.log(`retailflow: ${signal} again, exiting now`);
    process.exit(1);
  }
  console.log(`retailflow: ${signal}: draining ${service.inFlight} request(s), then stopping`);
  service.shutdown().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('retailflow: shutdown failed', error);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
