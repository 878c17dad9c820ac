// `npm run load -w @ballast/retailflow`: a short mixed scenario with autocannon. Without BASE_URL it starts
// RetailFlow in this process on embedded defaults (pro-plan limit raised so acme's traffic is not all 429s; the
// free plan keeps its limit, so globex shows per-plan limiting). Prints a table, then one JSON line.
//   LOAD_DURATION=10 LOAD_CONNECTIONS=8 BASE_URL=http://127.0.0.1:3000 npm run load -w @ballast/retailflow
import { randomUUID } from 'node:crypto';
import autocannon, { type AutocannonResult } from 'autocannon';
import { report, type BenchResult } from '@ballast/testkit';
import { DEFAULT_CONFIG, loadConfig } from '../src/config.js';
import { startRetailFlow, type RetailFlow } from '../src/service.js';

const duration = Number(process.env.LOAD_DURATION ?? 10);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 8);

let service: RetailFlow | undefined;
let base = process.env.BASE_URL;
if (base === undefined) {
  service = await startRetailFlow(
    loadConfig({
      ...process.env,
      PORT: '0',
      PAYMENT_PORT: '0',
      PRO_REQUESTS_PER_MINUTE: process.env.PRO_REQUESTS_PER_MINUTE ?? '6000000',
    }),
    { log: () => {} },
  );
  base = service.url;
}
const acme = process.env.ACME_KEY ?? DEFAULT_CONFIG.acmeApiKey;
const globex = process.env.GLOBEX_KEY ?? DEFAULT_CONFIG.globexApiKey;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

const browse = (title: string, key: string) =>
  autocannon({
    url: base,
    title,
    duration,
    connections,
    headers: auth(key),
    requests: [
      { method: 'GET', path: '/api/v1/products' },
      { method: 'GET', path: '/api/v1/products/sku-mug' },
      { method: 'GET', path: '/api/v1/products/sku-kettle' },
    ],
  });

const checkout = autocannon({
  url: base,
  title: 'checkout (acme, pro)',
  duration,
  connections: Math.max(1, Math.floor(connections / 2)),
  requests: [
    {
      method: 'POST',
      path: '/api/v1/orders',
      headers: { ...auth(acme), 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ productId: 'sku-filter', quantity: 1 }] }),
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, 'idempotency-key': randomUUID() },
      }),
    },
  ],
});

const runs = await Promise.all([
  browse('browse (acme, pro)', acme),
  browse('browse (globex, free)', globex),
  checkout,
]);
const slo = service ? service.slos.report() : undefined;
await service?.shutdown();

const row = (r: AutocannonResult): BenchResult => ({
  name: r.title ?? 'run',
  opsPerSec: r.requests.total / r.duration,
  medianNs: r.latency.p50 * 1e6,
});
const results = runs.map(row);
console.log('\nstatus codes and tail latency');
for (const r of runs) {
  const codes = Object.entries(r.statusCodeStats)
    .map(([code, s]) => `${code}: ${s.count}`)
    .join(', ');
  console.log(`  ${(r.title ?? '').padEnd(24)} p99 ${r.latency.p99} ms  errors ${r.errors}  ${codes}`);
}
const [acmeBrowse, globexBrowse, checkoutRun] = runs;
report(
  'retailflow-mixed-load',
  results,
  {
    'checkout/browse (acme)': row(checkoutRun).opsPerSec / row(acmeBrowse).opsPerSec,
    'globex 429 share':
      (globexBrowse.statusCodeStats['429']?.count ?? 0) / Math.max(1, globexBrowse.requests.total),
  },
  {
    durationSeconds: duration,
    connections,
    statusCodes: Object.fromEntries(runs.map((r) => [r.title, r.statusCodeStats])),
    p99Ms: Object.fromEntries(runs.map((r) => [r.title, r.latency.p99])),
    ...(slo ? { slo: slo.slos.map((s) => ({ name: s.name, sli: s.sli, policy: s.policy })) } : {}),
  },
);
