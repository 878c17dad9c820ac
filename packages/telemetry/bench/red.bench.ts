/**
 * RED middleware overhead: the same express app served bare, with Ballast RED and with express-prom-bundle
 * (method + path + status), each in its own child process; autocannon loads one server at a time, in alternating
 * rounds, from this process. Then the cost of one histogram observation with 4 labels.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Histogram, Registry } from 'prom-client';
import { type BenchResult, measure, report, row } from '@ballast/testkit';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import type { Variant } from './apps.js';

const VARIANTS: readonly Variant[] = ['bare', 'red', 'prombundle'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

async function start(variant: Variant): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [variant], {
    execArgv: ['--conditions=@ballast/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/api/users/42` };
}

async function load(url: string, seconds: number): Promise<number> {
  const result = await autocannon({ url, connections: 16, duration: seconds });
  if (result.errors > 0 || result.non2xx > 0)
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  return result.requests.average;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const servers = new Map<Variant, { child: ChildProcess; url: string }>();
for (const variant of VARIANTS) servers.set(variant, await start(variant));
try {
  for (const variant of VARIANTS) await load(servers.get(variant)!.url, 1); // warm-up (JIT, connections)
  const samples = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no variant always runs first or last in a round.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
    for (const variant of order) samples.get(variant)!.push(await load(servers.get(variant)!.url, SECONDS));
  }
  const http: BenchResult[] = VARIANTS.map((variant) => {
    const rps = median(samples.get(variant)!);
    return { name: `http ${variant}`, opsPerSec: rps, medianNs: 1e9 / rps };
  });

  // One observation with 4 labels: Ballast's histogram (exemplar-capable) and a plain prom-client histogram.
  const ballast = createMetricsRegistry().histogram('http_server_request_duration_seconds');
  const plain = new Histogram({
    name: 'plain_duration_seconds',
    help: 'baseline',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code', 'error_type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    registers: [new Registry()],
  });
  const routes = ['/api/users/:id', '/api/orders/:id', '/api/cart', '/health'];
  const BATCH = 1000;
  let i = 0;
  const labels = () => ({
    http_request_method: 'GET',
    http_route: routes[i++ & 3]!,
    http_response_status_code: '200',
    error_type: i & 64 ? '500' : 'none',
  });
  const observations = await measure(
    [
      {
        name: 'observe 4 labels (Ballast histogram)',
        batch: BATCH,
        fn: () => {
          for (let n = 0; n < BATCH; n++) ballast.observe({ labels: labels(), value: (n % 100) / 1000 });
        },
      },
      {
        name: 'observe 4 labels (plain prom-client)',
        batch: BATCH,
        fn: () => {
          for (let n = 0; n < BATCH; n++) plain.observe(labels(), (n % 100) / 1000);
        },
      },
    ],
    { timeMs: 700, warmupMs: 200 },
  );

  const results = [...http, ...observations];
  report(
    'telemetry-red',
    results,
    {
      red_vs_bare: row(results, 'http red').opsPerSec / row(results, 'http bare').opsPerSec,
      red_vs_prombundle: row(results, 'http red').opsPerSec / row(results, 'http prombundle').opsPerSec,
      observe_vs_prom_client:
        row(results, 'observe 4 labels (plain prom-client)').medianNs /
        row(results, 'observe 4 labels (Ballast histogram)').medianNs,
    },
    {
      histogram_observe_ns: row(results, 'observe 4 labels (Ballast histogram)').medianNs,
      rounds: ROUNDS,
      seconds_per_round: SECONDS,
      samples: Object.fromEntries(samples),
    },
  );
} finally {
  for (const { child } of servers.values()) child.disconnect();
}
