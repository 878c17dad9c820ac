import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The repository root, two folders above this file. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Keys RetailFlow's embedded seed uses (documented in its README). */
export const KEYS = {
  acme: 'rf_acme_dev_key',
  globex: 'rf_globex_dev_key',
  admin: 'rf_admin_dev_key',
  ops: 'rf_ops_dev_token',
} as const;

const handedOut = new Set<number>();

async function canListen(port: number): Promise<boolean> {
  const server = net.createServer();
  server.listen(port, '127.0.0.1');
  try {
    // `once` rejects when the server emits 'error' first (EADDRINUSE).
    await once(server, 'listening');
  } catch {
    return false;
  }
  server.close();
  await once(server, 'close');
  return true;
}

/**
 * A free loopback port for a process the proof starts. Chosen in 10000-19999, below Linux's ephemeral range
 * (32768-60999) and clear of this machine's services: a port found free there cannot be taken by an outgoing
 * connection (the load generator opens thousands) between this check and the child's own listen, as a port from
 * `listen(0)` was once (EADDRINUSE in the region drill). Never hands out the same port twice in one run.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 500; tries++) {
    const port = 10_000 + randomInt(10_000);
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no free loopback port between 10000 and 19999 after 500 tries');
}

/** A RetailFlow process started by the proof. */
export interface ServiceProcess {
  readonly url: string;
  /** The ops listener (`/metrics`, `/admin/*`; loopback). */
  readonly opsUrl: string;
  /** The payment simulator RetailFlow started (unless `PAYMENT_URL` was given). */
  readonly paymentUrl: string;
  readonly child: ChildProcess;
  /** SIGTERM and wait for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL: the process dies mid-whatever-it-was-doing. */
  kill(): Promise<void>;
  /** The process's output so far (for diagnosis when it fails). */
  output(): string;
}

const created = new Set<string>();

/** Drops the databases this run created (the run's figures are written; nothing reads them after). */
export async function dropFreshDatabases(databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * Drops and recreates the database `name` (default `ballast_proof`) on the server of `databaseUrl` and answers its URL: every
 * scenario (and every shedding mode of the overload one) starts on empty tables, so no earlier run's rows (a
 * growing outbox, thousands of orders) skew what it measures.
 */
export async function freshDatabase(databaseUrl: string, name = `ballast_proof_${process.pid}`): Promise<string> {
  created.add(name);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Starts the built RetailFlow (`examples/retailflow/dist/main.js`) as its own process, so the load generator and
 * the service do not share an event loop, and waits until `/healthz` answers. With `fresh`, a `DATABASE_URL` in
 * `env` is replaced by a freshly created database on the same server (see {@link freshDatabase}).
 */
export async function startService(
  env: Record<string, string>,
  options: {
    readonly port?: number;
    readonly opsPort?: number;
    readonly fresh?: boolean;
    readonly startTimeoutMs?: number;
    /** Also append everything the process writes (its JSON log) to this file. */
    readonly logFile?: string;
  } = {},
): Promise<ServiceProcess> {
  if (options.fresh === true && env.DATABASE_URL !== undefined) {
    env = { ...env, DATABASE_URL: await freshDatabase(env.DATABASE_URL) };
  }
  const p = options.port ?? (await freePort());
  const paymentPort = await freePort();
  const opsPort = options.opsPort ?? (await freePort());
  // PROOF_NODE_ARGS: Node flags for every RetailFlow the proof starts, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
  // to see where a section's CPU goes (Node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = (process.env.PROOF_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'examples/retailflow/dist/main.js')], {
    env: {
      ...process.env,
      PORT: String(p),
      PAYMENT_PORT: String(paymentPort),
      OPS_PORT: String(opsPort),
      // The proof stops services often and no load balancer waits on them.
      PRE_STOP_DELAY_MS: '0',
      HOST: '127.0.0.1',
      // The proof measures shedding and faults, not the per-tenant limits (they have their own tests).
      PRO_REQUESTS_PER_MINUTE: '1000000000',
      FREE_REQUESTS_PER_MINUTE: '1000000000',
      // Nor the monthly quotas (the monetization section turns them on).
      QUOTAS: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  if (options.logFile !== undefined) {
    const file = createWriteStream(options.logFile, { flags: 'a' });
    child.stdout?.pipe(file);
    child.once('exit', () => file.end());
  }
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${p}`;
  const exited = once(child, 'exit');
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`RetailFlow exited with ${child.exitCode}:\n${out}`);
    try {
      // Both listeners: the ops listener (metrics, levers) may open a moment after the public one.
      const [api, ops] = await Promise.all([fetch(`${url}/healthz`), fetch(`http://127.0.0.1:${opsPort}/healthz`)]);
      if (api.ok && ops.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`RetailFlow did not answer /healthz on both listeners within ${startTimeoutMs / 1000} s:\n${out}`);
    }
    await sleep(100);
  }
  const wait = async (graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    url,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    paymentUrl: env.PAYMENT_URL ?? `http://127.0.0.1:${paymentPort}`,
    child,
    output: () => out,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await wait(graceMs);
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await wait(5000);
    },
  };
}

/** The payment provider simulator as a process of its own (`examples/retailflow/dist/provider-main.js`). */
export interface PaymentProviderProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the payment provider simulator as its own process, as a remote provider would be, and waits until it
 * answers `/healthz`: RetailFlow started without `PAYMENT_URL` runs the simulator on its own event loop, where
 * every charge's request and answer would queue behind the service's own work.
 */
export async function startPaymentProvider(): Promise<PaymentProviderProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'examples/retailflow/dist/provider-main.js')], {
    env: { ...process.env, PAYMENT_PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the payment provider exited with ${child.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the payment provider did not answer /healthz within 30 s');
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Wall-clock sleep: the proof drives a real service in real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sets a chaos switch on the running service through its admin endpoint (on the ops listener `opsUrl`). */
export async function setChaos(
  opsUrl: string,
  target: 'payments' | 'storage',
  fault: { enabled: boolean; latencyMs?: number; errorRate?: number },
): Promise<void> {
  const res = await fetch(`${opsUrl}/admin/chaos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ target, ...fault }),
  });
  if (!res.ok) throw new Error(`POST /admin/chaos answered ${res.status}: ${await res.text()}`);
}

/** One sample of the Prometheus text exposition: name, labels, value. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format line by line (comments skipped; exemplars dropped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.split(' # ')[0]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** Scrapes `/metrics` on the ops listener `opsUrl` (with the ops token) and returns its samples. */
export async function scrape(opsUrl: string): Promise<Sample[]> {
  const res = await fetch(`${opsUrl}/metrics`, { headers: { authorization: `Bearer ${KEYS.ops}` } });
  return parseExposition(await res.text());
}

/** Sum of the samples named `name` whose labels include `match`. */
export function sum(samples: readonly Sample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/**
 * The `--variant NAME:K=V,K=V` arguments of the A/B runners (`overload-probe.ts`, `tenant-flood.ts`): each a name
 * and the RetailFlow environment overrides it runs with.
 */
export function parseVariants(args: readonly string[]): { name: string; env: Record<string, string> }[] {
  return args.map((v) => {
    const [name = '', rest = ''] = v.split(/:(.*)/s);
    const env: Record<string, string> = {};
    for (const kv of rest.split(',').filter(Boolean)) {
      const [key = '', value = ''] = kv.split(/=(.*)/s);
      env[key] = value;
    }
    return { name, env };
  });
}
