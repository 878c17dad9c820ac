// Two regions on one machine: RetailFlow instances per region behind HAProxy (Debian's `haproxy`), region A's
// servers active and region B's as backups, each health-checked on /readyz. Plus the steady checkout load the
// failover drills run under.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KEYS, ROOT, freePort, sleep } from '../proof/service.js';

/** One RetailFlow instance slot: a fixed port HAProxy knows, and the process when it runs. */
export interface Instance {
  readonly name: string;
  readonly region: 'a' | 'b';
  readonly port: number;
  readonly paymentPort: number;
  process?: InstanceProcess | undefined;
}

/**
 * The generated HAProxy configuration: one frontend; region A's instances serve, region B's are `backup` servers
 * that take traffic only when every A server fails its /readyz check (checked every 250 ms, down after 2 misses).
 */
export function haproxyConfig(frontendPort: number, instances: readonly Instance[]): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 15s',
    '  retries 2',
    '  option redispatch',
    'frontend retailflow',
    `  bind 127.0.0.1:${frontendPort}`,
    '  default_backend regions',
    'backend regions',
    // The client's address for the instances, which trust this HAProxy (TRUSTED_PROXIES) for their failure budget.
    '  option forwardfor',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 250ms fastinter 250ms downinter 250ms fall 2 rise 1',
    ...instances.map(
      (i) => `  server ${i.name} 127.0.0.1:${i.port} check${i.region === 'b' ? ' backup' : ''}`,
    ),
    '',
  ].join('\n');
}

/** HAProxy running in the foreground as a child of the drill. */
export interface Proxy {
  readonly url: string;
  stop(): Promise<void>;
}

/** Writes the configuration into `dir`, checks it (`haproxy -c`) and starts HAProxy. */
export async function startProxy(dir: string, instances: readonly Instance[]): Promise<Proxy> {
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  await writeFile(cfg, haproxyConfig(port, instances));
  const child: ChildProcess = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${err}`);
    try {
      await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`haproxy did not listen: ${err}`);
      await sleep(100);
    }
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

/** A RetailFlow process of a region. */
export interface InstanceProcess {
  readonly child: ChildProcess;
  output(): string;
  kill(): Promise<void>;
}

/**
 * Starts RetailFlow (the built `examples/retailflow/dist/main.js`) on the slot's port against `databaseUrl`, with
 * the embedded broker and in-memory rate limits (both per region). `DATABASE_WAIT_FOR_PRIMARY_MS` keeps a warm
 * instance of the standby region waiting, modules loaded, until its database is promoted; it listens only then.
 * Does not wait: see {@link waitHealthy}.
 */
export function spawnInstance(instance: Instance, databaseUrl: string): void {
  const child = spawn(process.execPath, [path.join(ROOT, 'examples/retailflow/dist/main.js')], {
    env: {
      ...process.env,
      PORT: String(instance.port),
      PAYMENT_PORT: String(instance.paymentPort),
      // Each instance's ops listener on a port of its own (the drill reads only the public API).
      OPS_PORT: '0',
      // HAProxy's checks take a failed region out; no load balancer waits on a planned stop here.
      PRE_STOP_DELAY_MS: '0',
      // Billing has its own section; its monthly quotas would only refuse the drill's steady checkouts.
      QUOTAS: 'false',
      HOST: '127.0.0.1',
      TRUSTED_PROXIES: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DATABASE_WAIT_FOR_PRIMARY_MS: '3600000',
      SEED_STOCK: '100000000',
      PRO_REQUESTS_PER_MINUTE: '1000000000',
      FREE_REQUESTS_PER_MINUTE: '1000000000',
      OTEL_SERVICE_NAME: `retailflow-${instance.name}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-8_000)));
  const exited = once(child, 'exit');
  instance.process = {
    child,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Waits until the instance answers `/readyz` with 200 (bounded); throws with its output otherwise. */
export async function waitHealthy(instance: Instance, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = instance.process;
    if (!p || p.child.exitCode !== null) {
      throw new Error(`RetailFlow ${instance.name} exited:\n${p?.output() ?? ''}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${instance.port}/readyz`, {
        signal: AbortSignal.timeout(2000),
      });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`RetailFlow ${instance.name} not ready in time:\n${p.output()}`);
    await sleep(200);
  }
}

/** SIGKILLs an instance (a region failing takes its processes with it). */
export async function killInstance(instance: Instance): Promise<void> {
  await instance.process?.kill();
  instance.process = undefined;
}

/** One checkout the load generator made, and when it was first acknowledged (201/200). */
export interface Checkout {
  readonly key: string;
  readonly sentAt: number;
  ackedAt?: number;
  attempts: number;
}

/** Steady open-loop checkouts through the proxy; a failed checkout is retried with its idempotency key. */
export interface Load {
  readonly checkouts: readonly Checkout[];
  /** Times (ms since epoch) of every acknowledged attempt, in order. */
  readonly acks: number[];
  stop(): Promise<void>;
}

/** Starts `ratePerSec` checkouts per second against `url`; each retries (same key) every 500 ms until acknowledged. */
export function startLoad(url: string, ratePerSec: number): Load {
  const checkouts: Checkout[] = [];
  const acks: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let running = true;
  const attempt = async (c: Checkout): Promise<void> => {
    while (running || c.attempts === 0) {
      c.attempts++;
      try {
        const res = await fetch(`${url}/api/v1/orders`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${KEYS.acme}`,
            'content-type': 'application/json',
            'idempotency-key': c.key,
          },
          body: JSON.stringify({ items: [{ productId: 'sku-filter', quantity: 1 }] }),
          signal: AbortSignal.timeout(5_000),
        });
        await res.arrayBuffer();
        if (res.status === 201 || res.status === 200) {
          c.ackedAt = Date.now();
          acks.push(c.ackedAt);
          return;
        }
      } catch {
        // connection refused or timed out: retry with the same key
      }
      await sleep(500);
    }
  };
  const timer = setInterval(() => {
    const c: Checkout = { key: `dr-${randomUUID()}`, sentAt: Date.now(), attempts: 0 };
    checkouts.push(c);
    const p = attempt(c).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / ratePerSec);
  return {
    checkouts,
    acks,
    stop: async () => {
      clearInterval(timer);
      running = false;
      await Promise.all(inFlight);
    },
  };
}
