import { startPaymentSimulator } from './payments/simulator.js';

// `npm run provider`: the payment provider simulator as its own process (point RetailFlow at it with PAYMENT_URL).
const port = Number(process.env.PAYMENT_PORT ?? 3001);
// The drill knobs take the ops token (`OPS_TOKEN`, as RetailFlow's ops plane; the development default otherwise).
const knobsToken = process.env.OPS_TOKEN ?? 'rf_ops_dev_token';
const provider = await startPaymentSimulator({ port, host: process.env.HOST ?? '127.0.0.1', knobsToken });
console.log(`payment provider simulator on ${provider.url}`);
console.log(
  `  knobs: curl -X PUT -H "Authorization: Bearer $OPS_TOKEN" ${provider.url}/admin/knobs -d '{"errorRate":0.3,"latencyMs":200,"down":false}'`,
);
const stop = () => {
  provider.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
