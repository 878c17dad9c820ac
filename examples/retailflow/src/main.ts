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
const { banner, startRetailFlow } = await import('./service.js');
const service = await startRetailFlow(config, tracing ? { tracing } : {});
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
