/**
 * Checkouts per CPU-second of RetailFlow on PostgreSQL: this tree's build against a baseline build (the same
 * service at another commit, built in its own folder), in the same run, alternating which goes first.
 *
 * Each measurement starts the built service (`examples/retailflow/dist/main.js` of the tree) on a fresh database,
 * pins it alone on CPU 0 (this process, the payment simulator and PostgreSQL on CPU 1, as the proof's pinning
 * does), warms it, then sends checkouts closed loop (one to three lines spread over the catalog, a new
 * Idempotency-Key each) for a fixed time and reads the CPU time the service process spent meanwhile
 * (`/proc/<pid>/stat` utime + stime) and the CPU time of the database backends serving it. The figure is placed
 * checkouts (201) per CPU-second of the service; medians over the runs; the ratio is this tree's over the
 * baseline's. Run it under the machine lock:
 *
 * ```sh
 * git archive <base> | tar -x -C /tmp/base && (cd /tmp/base && npm ci && npm run build)
 * npm run build && flock /work/bench.lock npx tsx examples/retailflow/bench/checkout-cpu.bench.ts --baseline /tmp/base
 * ```
 *
 * The baseline may also be this tree with some environment of its own, to measure a setting rather than a commit:
 *
 * ```sh
 * npm run build && flock /work/bench.lock npx tsx examples/retailflow/bench/checkout-cpu.bench.ts \
 *   --baseline-env DATABASE_PREPARED_STATEMENTS=0
 * ```
 *
 * Options: `--baseline DIR` or `--baseline-env K=V[,K=V]` (one is required), `--runs N` (3), `--seconds S` (20), `--warm S` (5), `--connections N` (8),
 * `--database URL` (`DATABASE_URL`, else the local test server).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import pg from 'pg';
import { Pinning, postmasterPid } from '../../../scripts/proof/pinning.js';
import { freePort, freshDatabase, KEYS, sleep } from '../../../scripts/proof/service.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function option(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined)
    throw new Error(`Expected \`--${name} <value>\`, got nothing (see the file's header)`);
  return value;
}

function positive(name: string, fallback: string): number {
  const value = Number(option(name, fallback));
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`Expected \`--${name}\` to be a number > 0, got \`${option(name, fallback)}\``);
  }
  return value;
}

const baselineEnv: Record<string, string> = {};
const envOption = process.argv.includes('--baseline-env') ? option('baseline-env') : undefined;
for (const pair of envOption?.split(',') ?? []) {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new Error(`Expected \`--baseline-env\` as K=V[,K=V], got \`${envOption}\``);
  baselineEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
}
const baselineDir = path.resolve(envOption === undefined ? option('baseline') : '.');
const runs = positive('runs', '3');
const seconds = positive('seconds', '20');
const warmSeconds = positive('warm', '5');
const connections = positive('connections', '8');
const databaseUrl = option('database', process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');

const TICKS = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;

/** CPU seconds (user + system) a process has used so far, or 0 when it is gone. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) ... utime(11) stime(12).
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** The CPU seconds of every backend connected to the database `name`, by pid. */
async function backendCpu(admin: pg.Client, name: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
    name,
  ]);
  const cpu = new Map<number, number>();
  for (const { pid } of rows) cpu.set(pid, await cpuSeconds(pid));
  return cpu;
}

const PRODUCTS = ['sku-espresso', 'sku-grinder', 'sku-kettle', 'sku-filter', 'sku-mug', 'sku-scale'];
/** The i-th checkout's lines: one to three products, spread over the catalog. */
function lines(i: number): { productId: string; quantity: number }[] {
  const count = 1 + (i % 3);
  return Array.from({ length: count }, (_, k) => ({
    productId: PRODUCTS[(i + k * 2) % PRODUCTS.length]!,
    quantity: 1,
  }));
}

/** Sends checkouts closed loop for `durationSec`; answers the count of each status. */
async function checkouts(url: string, durationSec: number, first: number): Promise<Record<string, number>> {
  const pool = new Pool(url, { connections });
  const statuses: Record<string, number> = {};
  let next = first;
  const until = Date.now() + durationSec * 1000;
  const worker = async () => {
    while (Date.now() < until) {
      const i = next++;
      try {
        const res = await pool.request({
          method: 'POST',
          path: '/api/v1/orders',
          headers: {
            authorization: `Bearer ${KEYS.acme}`,
            'content-type': 'application/json',
            'idempotency-key': `bench-${first}-${i}`,
          },
          body: JSON.stringify({ items: lines(i) }),
        });
        await res.body.dump();
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return statuses;
}

interface Measurement {
  readonly variant: 'baseline' | 'candidate';
  readonly run: number;
  readonly placed: number;
  readonly statuses: Record<string, number>;
  readonly serviceCpuSec: number;
  readonly databaseCpuSec: number;
  readonly placedPerSec: number;
  readonly placedPerServiceCpuSec: number;
  readonly placedPerTotalCpuSec: number;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

async function measure(
  variant: Measurement['variant'],
  dir: string,
  runNo: number,
  paymentUrl: string,
  env: Record<string, string>,
): Promise<Measurement> {
  const name = `ballast_bench_checkout_${process.pid}`;
  const url = await freshDatabase(databaseUrl, name);
  const port = await freePort();
  const opsPort = await freePort();
  const child = spawn(process.execPath, [path.join(dir, 'examples/retailflow/dist/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      OPS_PORT: String(opsPort),
      PAYMENT_URL: paymentUrl,
      HOST: '127.0.0.1',
      PRE_STOP_DELAY_MS: '0',
      PRO_REQUESTS_PER_MINUTE: '1000000000',
      FREE_REQUESTS_PER_MINUTE: '1000000000',
      QUOTAS: 'false',
      LOAD_SHEDDING: 'none',
      SEED_STOCK: '100000000',
      TENANT_INVENTORY_SHARE: '1',
      INVENTORY_CONCURRENCY: String(connections),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const pinning = new Pinning();
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let waited = 0; ; waited += 100) {
      if (child.exitCode !== null) throw new Error(`${variant} exited with ${child.exitCode}: ${err}`);
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (waited > 30_000) throw new Error(`${variant} did not answer /healthz within 30 s: ${err}`);
      await sleep(100);
    }
    await pinning.pin(child.pid!, '0', `${variant} service`);
    await checkouts(base, warmSeconds, 1e9);
    const cpu0 = await cpuSeconds(child.pid!);
    const db0 = await backendCpu(admin, name);
    const statuses = await checkouts(base, seconds, 0);
    const serviceCpuSec = (await cpuSeconds(child.pid!)) - cpu0;
    const db1 = await backendCpu(admin, name);
    const databaseCpuSec = [...db1].reduce((sum, [pid, cpu]) => sum + cpu - (db0.get(pid) ?? 0), 0);
    const placed = statuses['201'] ?? 0;
    return {
      variant,
      run: runNo,
      placed,
      statuses,
      serviceCpuSec,
      databaseCpuSec,
      placedPerSec: placed / seconds,
      placedPerServiceCpuSec: placed / serviceCpuSec,
      placedPerTotalCpuSec: placed / (serviceCpuSec + databaseCpuSec),
    };
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    await pinning.release();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

// The payment simulator runs as its own process on CPU 1 (from this tree: both variants charge against it), so
// the service's CPU time is the service's alone.
const paymentPort = await freePort();
const simulator = spawn(process.execPath, [path.join(ROOT, 'examples/retailflow/dist/provider-main.js')], {
  env: { ...process.env, PAYMENT_PORT: String(paymentPort), HOST: '127.0.0.1' },
  stdio: 'ignore',
});
const outer = new Pinning();
const results: Measurement[] = [];
try {
  await sleep(1000);
  if (!(await Pinning.available(2)))
    throw new Error('taskset is not available: the bench measures pinned only');
  await outer.pin(process.pid, '1', 'bench load generator');
  await outer.pin(simulator.pid!, '1', 'payment simulator');
  const postmaster = await postmasterPid(databaseUrl);
  if (postmaster !== undefined) await outer.pin(postmaster, '1', 'PostgreSQL');
  const paymentUrl = `http://127.0.0.1:${paymentPort}`;
  for (let r = 1; r <= runs; r++) {
    // Alternate which goes first, so a drift of the machine during a run weighs on both.
    const order: [Measurement['variant'], string][] =
      r % 2 === 1
        ? [
            ['baseline', baselineDir],
            ['candidate', ROOT],
          ]
        : [
            ['candidate', ROOT],
            ['baseline', baselineDir],
          ];
    for (const [variant, dir] of order) {
      const m = await measure(variant, dir, r, paymentUrl, variant === 'baseline' ? baselineEnv : {});
      results.push(m);
      console.error(
        `run ${r} ${variant}: ${m.placed} placed in ${seconds} s, service ${m.serviceCpuSec.toFixed(2)} CPU-s, ` +
          `database ${m.databaseCpuSec.toFixed(2)} CPU-s, ${JSON.stringify(m.statuses)}`,
      );
    }
  }
} finally {
  simulator.kill('SIGTERM');
  await exited(simulator);
  await outer.release();
}

const summary = (variant: Measurement['variant']) => {
  const of = results.filter((m) => m.variant === variant);
  return {
    placedPerSec: median(of.map((m) => m.placedPerSec)),
    placedPerServiceCpuSec: median(of.map((m) => m.placedPerServiceCpuSec)),
    placedPerTotalCpuSec: median(of.map((m) => m.placedPerTotalCpuSec)),
    databaseCpuMsPerCheckout: median(of.map((m) => (m.databaseCpuSec / m.placed) * 1000)),
    serviceCpuMsPerCheckout: median(of.map((m) => (m.serviceCpuSec / m.placed) * 1000)),
  };
};
const baseline = summary('baseline');
const candidate = summary('candidate');
const ratios = {
  'checkouts per service CPU-s (candidate / baseline)':
    candidate.placedPerServiceCpuSec / baseline.placedPerServiceCpuSec,
  'checkouts per service+database CPU-s (candidate / baseline)':
    candidate.placedPerTotalCpuSec / baseline.placedPerTotalCpuSec,
  'checkouts per second, service pinned to one CPU (candidate / baseline)':
    candidate.placedPerSec / baseline.placedPerSec,
};
const title = `retailflow checkouts per CPU-second on PostgreSQL (baseline ${envOption === undefined ? baselineDir : `this tree with ${envOption}`}; medians of ${runs} runs of ${seconds} s, ${connections} connections, service pinned on CPU 0)`;
console.log(title);
console.log(
  `${'variant'.padEnd(12)}${'placed/s'.padStart(10)}${'per svc CPU-s'.padStart(15)}${'per svc+db CPU-s'.padStart(18)}${'svc ms/co'.padStart(11)}${'db ms/co'.padStart(10)}`,
);
for (const [name, s] of [
  ['baseline', baseline],
  ['candidate', candidate],
] as const) {
  console.log(
    `${name.padEnd(12)}${s.placedPerSec.toFixed(1).padStart(10)}${s.placedPerServiceCpuSec.toFixed(1).padStart(15)}${s.placedPerTotalCpuSec
      .toFixed(1)
      .padStart(
        18,
      )}${s.serviceCpuMsPerCheckout.toFixed(2).padStart(11)}${s.databaseCpuMsPerCheckout.toFixed(2).padStart(10)}`,
  );
}
console.log('\nratios:');
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name.padEnd(72)} ${value.toFixed(3)}`);
console.log(JSON.stringify({ bench: title, baseline, candidate, ratios, runs: results }));
