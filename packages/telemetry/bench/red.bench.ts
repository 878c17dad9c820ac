/**
 * RED middleware overhead: the same express app served bare, with Ballast RED and with express-prom-bundle
 * (method + path + status), each in its own child process; autocannon loads one server at a time, in alternating
 * rounds, from this process; ratios are medians of per-round ratios. Then the cost of one histogram observation
 * with 4 labels.
 */
import { Histogram, Registry } from 'prom-client';
import { type BenchResult, measure, report, row } from '@ballast/testkit';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import type { Variant } from './apps.js';
import { runRounds } from './http-harness.js';

const VARIANTS: readonly Variant[] = ['bare', 'layer', 'red', 'prombundle'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

const rounds = await runRounds(VARIANTS, ROUNDS, SECONDS);
const { pairedRatio } = rounds;
const http: BenchResult[] = rounds.rows();

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
        for (let n = 0; n < BATCH; n++) ballast.observe(labels(), (n % 100) / 1000);
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
    // Server capacity (requests per CPU-second of the server process), paired per round, median over rounds.
    // Wall req/s ratios are kept too; on a shared machine they move with everything else that runs.
    red_vs_bare: pairedRatio('red', 'bare', 'perCpuSecond'),
    red_vs_prombundle: pairedRatio('red', 'prombundle', 'perCpuSecond'),
    red_vs_layer: pairedRatio('red', 'layer', 'perCpuSecond'),
    layer_vs_bare: pairedRatio('layer', 'bare', 'perCpuSecond'),
    red_vs_bare_wall: pairedRatio('red', 'bare', 'rps'),
    red_vs_prombundle_wall: pairedRatio('red', 'prombundle', 'rps'),
    observe_vs_prom_client:
      row(results, 'observe 4 labels (plain prom-client)').medianNs /
      row(results, 'observe 4 labels (Ballast histogram)').medianNs,
  },
  {
    histogram_observe_ns: row(results, 'observe 4 labels (Ballast histogram)').medianNs,
    rounds: ROUNDS,
    seconds_per_round: SECONDS,
    samples: rounds.rawSamples(),
  },
);
