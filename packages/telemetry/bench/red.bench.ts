/**
 * RED middleware overhead: the same express app served bare, with Ballast RED and with express-prom-bundle
 * (method + path + status), each in its own child process; autocannon loads one server at a time, in alternating
 * rounds, from this process; ratios are medians of per-round ratios. Then the cost of one histogram observation
 * with 4 labels.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Histogram, Registry } from 'prom-client';
import { type BenchResult, measure, report, row } from '@ballast/testkit';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import type { Variant } from './apps.js';

const VARIANTS: readonly Variant[] = ['bare', 'layer', 'red', 'prombundle'];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

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

function cpuMicros(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: { cpuMicros?: number }) => {
      if (m.cpuMicros === undefined) return;
      child.off('message', onMessage);
      resolve(m.cpuMicros);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

interface Load {
  /** Wall-clock requests per second. */
  readonly rps: number;
  /** Requests per CPU-second of the server process: its capacity, whatever else the machine runs. */
  readonly perCpuSecond: number;
}

async function load(server: { child: ChildProcess; url: string }, seconds: number): Promise<Load> {
  const before = await cpuMicros(server.child);
  const result = await autocannon({ url: server.url, connections: 16, duration: seconds });
  const cpu = (await cpuMicros(server.child)) - before;
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${server.url}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  }
  return { rps: result.requests.average, perCpuSecond: result.requests.total / (cpu / 1e6) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const servers = new Map<Variant, { child: ChildProcess; url: string }>();
for (const variant of VARIANTS) servers.set(variant, await start(variant));
try {
  for (const variant of VARIANTS) await load(servers.get(variant)!, 1); // warm-up (JIT, connections)
  const samples = new Map<Variant, Load[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no variant always runs first or last in a round.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
    for (const variant of order) samples.get(variant)!.push(await load(servers.get(variant)!, SECONDS));
  }
  const pairedRatio = (a: Variant, b: Variant, key: keyof Load) =>
    median(samples.get(a)!.map((value, round) => value[key] / samples.get(b)![round]![key]));
  const http: BenchResult[] = VARIANTS.flatMap((variant) => {
    const perCpu = median(samples.get(variant)!.map((l) => l.perCpuSecond));
    const rps = median(samples.get(variant)!.map((l) => l.rps));
    return [
      { name: `http ${variant} (req per CPU-s)`, opsPerSec: perCpu, medianNs: 1e9 / perCpu },
      { name: `http ${variant} (wall req/s)`, opsPerSec: rps, medianNs: 1e9 / rps },
    ];
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
      samples: Object.fromEntries(
        [...samples].map(([variant, loads]) => [
          variant,
          loads.map((l) => [Math.round(l.rps), Math.round(l.perCpuSecond)]),
        ]),
      ),
    },
  );
} finally {
  for (const { child } of servers.values()) child.disconnect();
}
