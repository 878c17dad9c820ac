// `npm run fleet`: RetailFlow as a fleet on this machine (N instances behind HAProxy, a Prometheus scraping each)
// on the real PostgreSQL, Redis and RabbitMQ, until Ctrl-C (or --for seconds). The proof's `deployments` section
// drives the same fleet through blue/green switches and canary rollouts.
//   npm run fleet                      3 instances, until Ctrl-C
//   npm run fleet -- --instances 4 --for 60
import { parseArgs } from 'node:util';
import { serviceUrl } from '@ballast/testkit';
import { sleep } from '../proof/service.js';
import { startFleet } from './fleet.js';

const { values } = parseArgs({
  options: { instances: { type: 'string', default: '3' }, for: { type: 'string' } },
});
const count = Number(values.instances);
if (!Number.isInteger(count) || count < 1 || count > 8) {
  console.error(`--instances: expected an integer from 1 to 8, got ${JSON.stringify(values.instances)}`);
  process.exit(2);
}
const fleet = await startFleet({
  env: {
    DATABASE_URL: serviceUrl('postgres'),
    REDIS_URL: serviceUrl('redis'),
    AMQP_URL: serviceUrl('rabbitmq'),
  },
  slots: Array.from({ length: count }, (_, i) => ({ name: `stable-${i + 1}`, track: 'stable' })),
  log: (line) => console.log(line),
});
console.log(`
RetailFlow fleet of ${count}:
  API (HAProxy)      ${fleet.url}          curl -H 'authorization: Bearer rf_acme_dev_key' ${fleet.url}/api/v1/products
  Prometheus         ${fleet.prometheusUrl}
  HAProxy runtime    echo 'show stat' | socat stdio ${fleet.runtime.socketPath}
  instances          ${[...fleet.instances.values()].map((i) => `${i.slot.name} ${i.url}`).join(', ')}
Ctrl-C stops everything.`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping the fleet...');
  await fleet.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (values.for !== undefined) {
  await sleep(Number(values.for) * 1000);
  await stop();
} else {
  // Keep the process alive until a signal.
  setInterval(() => undefined, 1 << 30);
}
