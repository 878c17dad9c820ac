// A RetailFlow fleet on this machine, made of the parts a team runs: N RetailFlow processes (each its own port) on
// one PostgreSQL database, Redis and RabbitMQ, one payment provider process, HAProxy in front (health checks on
// /readyz, weights and states changed through its runtime API) and a real Prometheus scraping every instance with
// its `track` label (stable, canary, blue, green).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  freePort,
  freshDatabase,
  KEYS,
  sleep,
  startPaymentProvider,
  startService,
  type PaymentProviderProcess,
  type ServiceProcess,
} from '../proof/service.js';
import { haproxyConfig, startHaproxy, type HaproxyProcess, type HaproxyRuntime } from './haproxy.js';

/** One server slot: a name HAProxy and Prometheus know, and the track its instance belongs to. */
export interface FleetSlot {
  readonly name: string;
  readonly track: string;
  /** Start an instance in this slot with the fleet. @default true */
  readonly start?: boolean;
  /** @default 100 */
  readonly weight?: number;
}

/** Options of {@link startFleet}. */
export interface FleetOptions {
  readonly slots: readonly FleetSlot[];
  /** Environment of every instance (DATABASE_URL is replaced by a fresh database for the fleet). */
  readonly env: Record<string, string>;
  /** HAProxy's health-check interval. @default 1000 */
  readonly checkIntervalMs?: number;
  /** Prometheus's scrape interval in seconds. @default 1 */
  readonly scrapeSec?: number;
  /** Where progress goes. @default no output */
  readonly log?: (line: string) => void;
}

/** A running instance. */
export interface FleetInstance {
  readonly slot: FleetSlot;
  readonly port: number;
  readonly url: string;
  /** The ops listener: `/metrics` (ops token), `/admin/*` (admin key). */
  readonly opsPort: number;
  readonly opsUrl: string;
  service?: ServiceProcess | undefined;
}

/** The running fleet. */
export interface Fleet {
  /** HAProxy's frontend: where clients send requests. */
  readonly url: string;
  readonly prometheusUrl: string;
  readonly databaseUrl: string | undefined;
  readonly paymentUrl: string;
  readonly runtime: HaproxyRuntime;
  readonly instances: ReadonlyMap<string, FleetInstance>;
  /**
   * Starts the slot's instance (with extra environment), waits until HAProxy's checks see it UP, and leaves it at
   * `weight` (0: ready but taking no traffic, as green waits before a switch). @default weight: the slot's
   */
  start(name: string, env?: Record<string, string>, weight?: number): Promise<void>;
  /**
   * Takes the slot out of rotation (`drain`), waits for HAProxy to see it go and for its open sessions to end,
   * then stops the process (SIGTERM: it turns unready, finishes in-flight work and exits).
   */
  retire(name: string): Promise<void>;
  /** Stops everything the fleet started, whatever state it is in. */
  stop(): Promise<void>;
}

async function startPrometheus(
  dir: string,
  scrapeSec: number,
  targets: readonly { port: number; track: string; name: string }[],
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const config = {
    global: { scrape_interval: `${scrapeSec}s`, evaluation_interval: `${scrapeSec}s` },
    scrape_configs: [
      {
        job_name: 'retailflow',
        // /metrics is on each instance's ops listener and asks for the ops token.
        authorization: { type: 'Bearer', credentials: KEYS.ops },
        static_configs: targets.map((t) => ({
          targets: [`127.0.0.1:${t.port}`],
          labels: { track: t.track, slot: t.name },
        })),
      },
    ],
  };
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'prometheus')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 20_000;
  while (
    !(await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || performance.now() > deadline) throw new Error('Prometheus did not start');
    await sleep(100);
  }
  return { url, child };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Starts the fleet: database, payment provider, Prometheus, HAProxy, and the instances of the slots that start. */
export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(tmpdir(), 'ballast-fleet-'));
  const children: ChildProcess[] = [];
  const instances = new Map<string, FleetInstance>();
  let haproxy: HaproxyProcess | undefined;
  let provider: PaymentProviderProcess | undefined;
  const stopAll = async () => {
    await Promise.all([...instances.values()].map((i) => i.service?.stop(15_000) ?? Promise.resolve()));
    await haproxy?.stop();
    await provider?.stop();
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const databaseUrl =
      o.env.DATABASE_URL === undefined ? undefined : await freshDatabase(o.env.DATABASE_URL, 'ballast_fleet');
    provider = await startPaymentProvider();
    const paymentUrl = provider.url;
    for (const slot of o.slots) {
      const port = await freePort();
      const opsPort = await freePort();
      instances.set(slot.name, {
        slot,
        port,
        url: `http://127.0.0.1:${port}`,
        opsPort,
        opsUrl: `http://127.0.0.1:${opsPort}`,
      });
    }
    const prometheus = await startPrometheus(
      dir,
      o.scrapeSec ?? 1,
      [...instances.values()].map((i) => ({ port: i.opsPort, track: i.slot.track, name: i.slot.name })),
    );
    children.push(prometheus.child);
    const socketPath = path.join(dir, 'haproxy.sock');
    const frontendPort = await freePort();
    writeFileSync(
      path.join(dir, 'haproxy.cfg'),
      haproxyConfig({
        frontendPort,
        socketPath,
        checkIntervalMs: o.checkIntervalMs ?? 1000,
        servers: [...instances.values()].map((i) => ({
          name: i.slot.name,
          port: i.port,
          weight: i.slot.weight ?? 100,
          state: 'maint' as const,
        })),
      }),
    );
    haproxy = await startHaproxy(path.join(dir, 'haproxy.cfg'), socketPath);
    const runtime = haproxy.runtime;
    const env = {
      ...o.env,
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
      PAYMENT_URL: paymentUrl,
    };

    const waitFor = async (name: string, want: (status: string) => boolean, what: string) => {
      const deadline = performance.now() + 20_000;
      for (;;) {
        const server = (await runtime.servers()).find((s) => s.name === name);
        if (server && want(server.status)) return server;
        if (performance.now() > deadline)
          throw new Error(`${name} did not become ${what} in HAProxy (${server?.status})`);
        await sleep(50);
      }
    };

    const fleet: Fleet = {
      url: `http://127.0.0.1:${frontendPort}`,
      prometheusUrl: prometheus.url,
      databaseUrl,
      paymentUrl,
      runtime,
      instances,
      async start(name, extra = {}, weight) {
        const instance = instances.get(name);
        if (!instance) throw new Error(`no slot ${name}`);
        instance.service = await startService(
          // Unready for three health checks before the listener closes: HAProxy has taken it out by then. HAProxy
          // (on loopback) appends each client's address to X-Forwarded-For: the failure budget counts per client.
          {
            PRE_STOP_DELAY_MS: String(3 * (o.checkIntervalMs ?? 1000)),
            TRUSTED_PROXIES: '127.0.0.1',
            ...env,
            ...extra,
          },
          { port: instance.port, opsPort: instance.opsPort, startTimeoutMs: 90_000 },
        );
        await runtime.setWeight(name, weight ?? instance.slot.weight ?? 100);
        await runtime.setState(name, 'ready');
        await waitFor(name, (s) => s.startsWith('UP'), 'UP');
        log(`${name} (${instance.slot.track}) is up on ${instance.url}`);
      },
      async retire(name) {
        const instance = instances.get(name);
        if (!instance?.service) return;
        await runtime.setState(name, 'drain');
        // DRAIN, or DOWN/MAINT when its checks already fail: either way HAProxy sends it nothing new.
        const server = await waitFor(name, (s) => /DRAIN|DOWN|MAINT/.test(s), 'DRAIN');
        const deadline = performance.now() + 15_000;
        let current = server.current;
        while (current > 0 && performance.now() < deadline) {
          await sleep(50);
          current = (await runtime.servers()).find((s) => s.name === name)?.current ?? 0;
        }
        await instance.service.stop(15_000);
        instance.service = undefined;
        await runtime.setState(name, 'maint');
        log(`${name} drained and stopped`);
      },
      stop: stopAll,
    };
    // The first instances start side by side: each applies the migrations under PostgreSQL's advisory lock.
    await Promise.all(o.slots.filter((slot) => slot.start !== false).map((slot) => fleet.start(slot.name)));
    return fleet;
  } catch (error) {
    await stopAll();
    throw error;
  }
}
