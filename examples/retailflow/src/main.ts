import { loadConfig } from './config.js';
import { banner, startRetailFlow } from './service.js';

// `npm start`: RetailFlow on embedded defaults (or what the environment says), stopped gracefully on SIGTERM/SIGINT.
let config;
try {
  config = loadConfig();
} catch (error) {
  console.error(`retailflow: bad configuration: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}

const service = await startRetailFlow(config);
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
