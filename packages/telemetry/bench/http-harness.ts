/**
 * The HTTP load harness shared by the telemetry benchmarks: each variant of an app is served by its own child
 * process (`server.ts`), autocannon loads one at a time from this process in rounds whose order rotates, and each
 * load is measured as wall requests per second and as requests per CPU-second of the server process (its
 * capacity, whatever else the shared machine runs).
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchResult } from '@ballast/testkit';
import type { Variant } from './apps.js';

/** A variant's server process and the URL the load hits. */
export interface Server {
  readonly child: ChildProcess;
  readonly url: string;
}

/** One load of one server. */
export interface Load {
  /** Wall-clock requests per second. */
  readonly rps: number;
  /** Requests per CPU-second of the server process: its capacity, whatever else the machine runs. */
  readonly perCpuSecond: number;
}

/**
 * The CPU list the servers are pinned to (`BENCH_SERVER_CPUS`, a `taskset` list such as `1`), or undefined for
 * no pinning. Run the load generator elsewhere (`taskset -c 0 node ...`), so it never takes the servers' core.
 */
export const SERVER_CPUS = process.env.BENCH_SERVER_CPUS || undefined;

/** Forks `server.ts` serving `variant` (pinned with `taskset` to {@link SERVER_CPUS}) and waits until it listens. */
export async function startServer(variant: Variant): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [variant], {
    execArgv: ['--conditions=@ballast/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (SERVER_CPUS !== undefined && child.pid !== undefined) {
    // Every thread of the child (libuv's pool, V8's helpers), not only the main one.
    execFileSync('taskset', ['-a', '-p', '-c', SERVER_CPUS, String(child.pid)], { stdio: 'ignore' });
  }
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

/** Loads `server` for `seconds` with 16 connections; any error or non-2xx answer fails the benchmark. */
export async function load(server: Server, seconds: number): Promise<Load> {
  const before = await cpuMicros(server.child);
  const result = await autocannon({ url: server.url, connections: 16, duration: seconds });
  const cpu = (await cpuMicros(server.child)) - before;
  if (result.errors > 0 || result.non2xx > 0) {
    throw new Error(`${server.url}: ${result.errors} errors, ${result.non2xx} non-2xx`);
  }
  return { rps: result.requests.average, perCpuSecond: result.requests.total / (cpu / 1e6) };
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** What {@link runRounds} measured: every load per variant, and helpers to summarise them. */
export interface Rounds<V extends Variant> {
  readonly samples: ReadonlyMap<V, readonly Load[]>;
  /** Median over rounds of the per-round ratio `a / b` of `key`. */
  pairedRatio(a: V, b: V, key: keyof Load): number;
  /** Two rows per variant: median requests per CPU-second and median wall req/s. */
  rows(): BenchResult[];
  /** Per variant, `[wall req/s, req per CPU-s]` of each round, for the JSON line. */
  rawSamples(): Record<string, number[][]>;
}

/**
 * Starts one server per variant, warms each up, then runs `rounds` rounds of `seconds` per variant, rotating the
 * order every round so no variant always runs first or last; stops the servers.
 */
export async function runRounds<V extends Variant>(
  variants: readonly V[],
  rounds: number,
  seconds: number,
): Promise<Rounds<V>> {
  const servers = new Map<V, Server>();
  const samples = new Map<V, Load[]>(variants.map((v) => [v, []]));
  try {
    for (const variant of variants) servers.set(variant, await startServer(variant));
    for (const variant of variants) await load(servers.get(variant)!, 1); // warm-up (JIT, connections)
    for (let round = 0; round < rounds; round++) {
      const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
      for (const variant of order) samples.get(variant)!.push(await load(servers.get(variant)!, seconds));
    }
  } finally {
    for (const { child } of servers.values()) child.disconnect();
  }
  return {
    samples,
    pairedRatio: (a, b, key) =>
      median(samples.get(a)!.map((value, round) => value[key] / samples.get(b)![round]![key])),
    rows: () =>
      variants.flatMap((variant) => {
        const perCpu = median(samples.get(variant)!.map((l) => l.perCpuSecond));
        const rps = median(samples.get(variant)!.map((l) => l.rps));
        return [
          { name: `http ${variant} (req per CPU-s)`, opsPerSec: perCpu, medianNs: 1e9 / perCpu },
          { name: `http ${variant} (wall req/s)`, opsPerSec: rps, medianNs: 1e9 / rps },
        ];
      }),
    rawSamples: () =>
      Object.fromEntries(
        [...samples].map(([variant, loads]) => [
          variant,
          loads.map((l) => [Math.round(l.rps), Math.round(l.perCpuSecond)]),
        ]),
      ),
  };
}
