// The `outages` section of the proof: RetailFlow under checkouts while its dependencies go away and come back.
// Redis is stopped for 5 s (the limiter fails open), the RabbitMQ broker for `brokerOutageSec` (the outbox grows,
// then drains), the service process is SIGKILLed mid-relay, and PostgreSQL is restarted (readiness fails, then
// recovers); then the database is checked for orders lost, half-applied or applied twice, and the projections
// against a rebuild from the events. The section runs on services of its own, started here side by side and removed
// at the end, even on failure or interrupt: a PostgreSQL cluster `ballast_o` on port 5444 (scripts/dr/cluster.ts), a
// `redis-server` child process and a RabbitMQ node `ballast_outages@localhost`, both on free loopback ports. It never
// stops the machine's shared PostgreSQL, Redis or RabbitMQ, so other sections can run beside it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { cluster, createCluster, ctl, dropCluster, query, waitReady, type Cluster } from '../dr/cluster.js';
import { KEYS, ROOT, freePort, scrape, sleep, startService, sum, type ServiceProcess } from './service.js';
import { onInterrupt, running } from './interrupt.js';

const run = promisify(execFile);

/** One outage step's verdict. */
export interface OutageStep {
  readonly name: string;
  readonly detail: string;
  readonly met: boolean;
  readonly figures: Record<string, number | boolean | null>;
}

/** What the outage scenario measured. */
export interface OutageResult {
  readonly steps: OutageStep[];
  readonly brokerTimeline: { t: number; depth: number }[];
}

/** Knobs of the scenario. */
export interface OutageOptions {
  readonly brokerOutageSec: number;
  readonly log: (line: string) => void;
}

/** The section's RabbitMQ node (the machine's shared node is rabbit@localhost). */
const RABBIT_NODE = 'ballast_outages@localhost';
/** Prefix of the section's temporary directory (the RabbitMQ node's and Redis's files). */
const TMP_PREFIX = 'ballast-outages-';

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(250);
  }
  return false;
}

/** `rabbitmqctl` against the section's node. */
function rabbitmqctl(args: readonly string[], timeoutMs = 60_000) {
  return run('rabbitmqctl', ['-n', RABBIT_NODE, ...args], { timeout: timeoutMs });
}

/** The section's own `redis-server`, a child process on a fixed port: stopped and started again for the outage. */
class OwnRedis {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts it as a child process (not daemonized: interrupted, the proof stops it with its other descendants) and
   * waits until it answers PING.
   */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    this.child = child;
    let failed: Error | undefined;
    child.once('error', (error) => (failed = error));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (failed !== undefined) throw failed;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server on port ${this.port} exited`);
      const pong = await run('redis-cli', ['-p', String(this.port), 'ping']).then(
        (r) => r.stdout.includes('PONG'),
        () => false,
      );
      if (pong) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within 30 s`);
      await sleep(100);
    }
  }

  /** `redis-cli shutdown nosave`, as an operator stops it; waits until the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    await run('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave']).catch(() => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts the section's RabbitMQ node from a configuration of its own under `dir` (owned by the rabbitmq user). */
async function startRabbitNode(dir: string, amqpPort: number, distPort: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'enabled_plugins'), '[].\n');
  // The machine's /etc/rabbitmq/rabbitmq.conf pins the listener to 5672, hence a configuration file of its own.
  await writeFile(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.1 = 127.0.0.1:${amqpPort}\nloopback_users = none\n`);
  // The server drops to the rabbitmq user.
  await run('chown', ['-R', 'rabbitmq', dir]);
  await run('rabbitmq-server', ['-detached'], {
    timeout: 60_000,
    env: {
      ...process.env,
      RABBITMQ_NODENAME: RABBIT_NODE,
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: path.join(dir, 'pid'),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    },
  });
  await rabbitmqctl(['wait', path.join(dir, 'pid'), '--timeout', '60'], 90_000);
}

/** Whether `pidFile` names a process that runs. */
function runs(pidFile: string): boolean {
  return existsSync(pidFile) && running(Number(readFileSync(pidFile, 'utf8').trim()));
}

/**
 * Stops the section's node (the whole Erlang node) if it runs; never fails. With the pid file of a node that runs,
 * waits until its process has exited; without one, `stop` answers at once (an error when no node runs): given a pid
 * file that is not there, rabbitmqctl would wait for it forever.
 */
async function stopRabbitNode(pidFile?: string): Promise<void> {
  const wait = pidFile !== undefined && runs(pidFile) ? [pidFile] : [];
  await rabbitmqctl(['stop', ...wait]).catch(() => undefined);
}

/** Creates the section's database on its cluster, once it answers. */
async function startPostgres(c: Cluster): Promise<string> {
  await createCluster(c);
  await ctl(c, 'start');
  await waitReady(c.url());
  await query(c.url(), 'CREATE DATABASE retailflow');
  return c.url('retailflow');
}

/** Fires checkouts at `rate` per second until stopped; counts answers by class. */
function checkouts(url: () => string, rate: number) {
  const counts = { ok: 0, rejected: 0, serverError: 0, failed: 0 };
  const inflight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const p = fetch(`${url()}/api/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: [{ productId: 'sku-filter', quantity: 1 }] }),
      signal: AbortSignal.timeout(10_000),
    }).then(
      async (res) => {
        await res.arrayBuffer();
        if (res.status < 300) counts.ok++;
        else if (res.status < 500 || res.status === 503) counts.rejected++;
        else counts.serverError++;
      },
      () => void counts.failed++,
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }, 1000 / rate);
  return {
    counts,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inflight]);
    },
  };
}

interface Ledger {
  /** Orders whose checkout finished (confirmed): each must be shipped exactly once. */
  orders: number;
  /** Orders a killed process left pending (no answer reached the client; a replay of the key resumes them). */
  pending: number;
  shipments: number;
  duplicateEffects: number;
  unpublished: number;
  ordersWithoutEvent: number;
  ordersWithoutItems: number;
}

async function ledger(databaseUrl: string): Promise<Ledger> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const one = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
    return {
      orders: await one("SELECT count(*) AS n FROM orders WHERE status <> 'pending'"),
      pending: await one("SELECT count(*) AS n FROM orders WHERE status = 'pending'"),
      shipments: await one('SELECT count(DISTINCT order_id) AS n FROM shipments'),
      duplicateEffects: await one(
        'SELECT coalesce(sum(c - 1), 0) AS n FROM (SELECT count(*) AS c FROM shipments GROUP BY tenant_id, order_id) s',
      ),
      unpublished: await one('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL'),
      ordersWithoutEvent: await one(
        'SELECT count(*) AS n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM outbox e WHERE e.tenant_id = o.tenant_id AND e.aggregate_id = o.id)',
      ),
      ordersWithoutItems: await one(
        'SELECT count(*) AS n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.tenant_id = o.tenant_id AND i.order_id = o.id)',
      ),
    };
  } finally {
    await client.end();
  }
}

/** Runs `rebuild-projections --check` (the built command) on the database; its JSON report and exit code. */
async function rebuildCheck(
  databaseUrl: string,
): Promise<{ exitCode: number; output: string; report?: { orders: number; events: number; drift: number } }> {
  const script = path.join(ROOT, 'examples/retailflow/dist/data/rebuild-main.js');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, '--check'],
      { env: { ...process.env, DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 2) : 0;
        const line = stdout.trim().split('\n').pop() ?? '';
        let report: { orders: number; events: number; drift: number } | undefined;
        try {
          report = JSON.parse(line) as { orders: number; events: number; drift: number };
        } catch {
          report = undefined;
        }
        resolve({ exitCode, output: `${stdout}${stderr}`, ...(report ? { report } : {}) });
      },
    );
  });
}

/**
 * Starts the section's own PostgreSQL cluster, Redis and RabbitMQ node, stops and restarts each under load (with
 * their own commands), kills the service mid-relay, and checks from the database that nothing was lost or applied
 * twice; the services are removed at the end.
 */
export async function outages(opts: OutageOptions): Promise<OutageResult> {
  const steps: OutageStep[] = [];
  const brokerTimeline: { t: number; depth: number }[] = [];
  // The section's PostgreSQL cluster, beside the disaster drills' ballast_a/b/r on 5441-5443.
  const pgCluster = cluster('ballast_o', 5444);
  // Left over from a run that was killed: its cluster, its node (stopped with the pid file its directory holds, so
  // that it is gone before a node of the same name starts) and their files.
  const leftovers = (await readdir(os.tmpdir()).catch(() => [] as string[]))
    .filter((entry) => entry.startsWith(TMP_PREFIX))
    .map((entry) => path.join(os.tmpdir(), entry));
  const pidFile = leftovers.map((d) => path.join(d, 'rabbitmq', 'pid')).find(runs);
  await Promise.all([dropCluster(pgCluster), stopRabbitNode(pidFile)]);
  // Gone when epmd no longer lists its name (a node of the same name could not start before).
  const registered = (r: { stdout: string }) => r.stdout.includes(`name ${RABBIT_NODE.split('@')[0]} `);
  await until(() => run('epmd', ['-names']).then((r) => !registered(r), () => true), 30_000);
  for (const d of leftovers) await rm(d, { recursive: true, force: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), TMP_PREFIX));
  await chmod(dir, 0o711); // the rabbitmq user reaches its directory below it
  const rabbitDir = path.join(dir, 'rabbitmq');
  const redisDir = path.join(dir, 'redis');
  await mkdir(redisDir);
  const [amqpPort, distPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const redis = new OwnRedis(redisPort, redisDir);
  // The RetailFlow process under test, once started (the relay step replaces it).
  let stopService: () => Promise<void> = () => Promise.resolve();
  // Once only: interrupted, the section's own `finally` runs too, while the proof stops its processes.
  let tornDown: Promise<void> | undefined;
  const teardown = () =>
    (tornDown ??= (async () => {
      await Promise.all([
        redis.stop().catch(() => undefined),
        stopRabbitNode(path.join(rabbitDir, 'pid')),
        dropCluster(pgCluster),
      ]);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    })());
  // Interrupted, the node and the cluster (daemons, not the proof's children) are stopped and removed; Redis and
  // RetailFlow are the proof's children, stopped with the rest.
  const forget = onInterrupt('outages: stopping the RabbitMQ node, dropping the cluster ballast_o', teardown);
  try {
    // Side by side; each start is timed on its own (seconds), for the log.
    const startedAt = performance.now();
    const timed = async <T>(start: Promise<T>): Promise<[T, string]> => [
      await start,
      ((performance.now() - startedAt) / 1000).toFixed(1),
    ];
    const [[databaseUrl, pgSec], [, redisSec], [, rabbitSec]] = await Promise.all([
      timed(startPostgres(pgCluster)),
      timed(redis.start()),
      timed(
        (async () => {
          await startRabbitNode(rabbitDir, amqpPort, distPort);
          await rabbitmqctl(['add_vhost', 'ballast-proof']);
          await rabbitmqctl(['set_permissions', '-p', 'ballast-proof', 'guest', '.*', '.*', '.*']);
        })(),
      ),
    ]);
    opts.log(
      `  own services up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s: PostgreSQL ${pgCluster.name} ` +
        `:${pgCluster.port} (${pgSec} s), Redis :${redisPort} (${redisSec} s), RabbitMQ ${RABBIT_NODE} :${amqpPort} ` +
        `with its virtual host (${rabbitSec} s)`,
    );
    const amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}/ballast-proof`;
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, AMQP_URL: amqpUrl, LOAD_SHEDDING: 'ballast' };
    let service: ServiceProcess = await startService(env);
    stopService = () => service.stop();
    const url = () => service.url;
    // A. Redis stopped: the limiter fails open (as RetailFlow configures it) and the service stays up.
    opts.log('  Redis: stopping it under load');
    let load = checkouts(url, 20);
    await sleep(2000);
    const before = { ...load.counts };
    await redis.stop();
    let healthyDuring = true;
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      healthyDuring &&= (await fetch(`${url()}/healthz`)).ok;
    }
    const during = { ok: load.counts.ok - before.ok, serverError: load.counts.serverError - before.serverError };
    const storeErrors = sum(await scrape(service.opsUrl), 'ballast_rate_limit_decisions_total', { decision: 'store-error' });
    await redis.start();
    await sleep(2000);
    await load.stop();
    steps.push({
      name: 'Redis stopped 5 s',
      detail: `service up throughout: ${healthyDuring}; ${during.ok} checkouts served and ${during.serverError} 5xx while Redis was down (limiter fails open)`,
      met: healthyDuring && during.ok > 0 && during.serverError === 0,
      figures: { healthyDuring, servedDuringOutage: during.ok, serverErrorsDuringOutage: during.serverError, storeErrors },
    });

    // B. RabbitMQ stopped: the outbox grows, then drains; every order gets exactly one shipment.
    opts.log(`  RabbitMQ: stopping it for ${opts.brokerOutageSec} s during checkouts`);
    load = checkouts(url, 20);
    const t0 = performance.now();
    const sample = async () => {
      const depth = sum(await scrape(service.opsUrl), 'retailflow_outbox_depth');
      brokerTimeline.push({ t: (performance.now() - t0) / 1000, depth });
      return depth;
    };
    await sleep(2000);
    await rabbitmqctl(['stop_app']);
    let peak = 0;
    for (let i = 0; i < opts.brokerOutageSec; i++) {
      await sleep(1000);
      peak = Math.max(peak, await sample());
    }
    await rabbitmqctl(['start_app'], 120_000);
    await load.stop();
    const drained = await until(async () => (await sample()) === 0, 90_000);
    const settled = await until(async () => {
      const l = await ledger(databaseUrl);
      return l.orders === l.shipments;
    }, 60_000);
    const b = await ledger(databaseUrl);
    steps.push({
      name: `RabbitMQ stopped ${opts.brokerOutageSec} s`,
      detail: `outbox peaked at ${peak} events and ${drained ? 'drained' : 'did not drain'}; ${b.orders} orders, ${b.shipments} shipped, ${b.orders - b.shipments} lost, ${b.duplicateEffects} duplicate effects`,
      met: peak > 0 && drained && settled && b.orders === b.shipments && b.duplicateEffects === 0,
      figures: { peakDepth: peak, orders: b.orders, shipped: b.shipments, lost: b.orders - b.shipments, duplicates: b.duplicateEffects },
    });

    // C. The relay killed mid-batch: a burst of orders, SIGKILL while publishing, restart, then count.
    opts.log('  relay: killing the service process mid-batch');
    load = checkouts(url, 60);
    await sleep(3000);
    await service.kill();
    await load.stop();
    service = await startService(env);
    await until(async () => {
      const l = await ledger(databaseUrl);
      return l.unpublished === 0 && l.orders === l.shipments;
    }, 60_000);
    const c = await ledger(databaseUrl);
    steps.push({
      name: 'relay killed mid-batch',
      detail:
        `after restart: ${c.orders} confirmed orders, ${c.shipments} shipped, ${c.orders - c.shipments} lost, ` +
        `${c.duplicateEffects} duplicate effects (${c.pending} checkout(s) cut off mid-flight left pending, never confirmed)`,
      met: c.orders === c.shipments && c.duplicateEffects === 0 && c.unpublished === 0,
      figures: {
        orders: c.orders,
        shipped: c.shipments,
        lost: c.orders - c.shipments,
        duplicates: c.duplicateEffects,
        pending: c.pending,
      },
    });

    // D. PostgreSQL restarted: readiness fails, then recovers; no order is half-applied.
    opts.log('  PostgreSQL: restarting it under load');
    load = checkouts(url, 20);
    // The watcher polls /readyz every 100 ms on its own, so "ready again" is when the service said so, not when
    // the restart command returned; it keeps which checks failed, for the report.
    let sawNotReady = false;
    let readyAt: number | undefined;
    const failedChecks = new Set<string>();
    const readiness = async (): Promise<boolean> => {
      try {
        const res = await fetch(`${url()}/readyz`);
        if (res.ok) return true;
        const report = (await res.json()) as { checks?: Record<string, { ok: boolean; detail?: string }> };
        for (const [name, check] of Object.entries(report.checks ?? {})) {
          if (!check.ok) failedChecks.add(`${name}${check.detail ? `: ${check.detail.slice(0, 80)}` : ''}`);
        }
        return false;
      } catch {
        return false;
      }
    };
    const watch = (async () => {
      const stopAt = performance.now() + 90_000;
      while (readyAt === undefined && performance.now() < stopAt) {
        const ready = await readiness();
        if (!ready) sawNotReady = true;
        else if (sawNotReady) readyAt = performance.now();
        await sleep(100);
      }
    })();
    await sleep(1000);
    const restartStarted = performance.now();
    // A restart as pg_ctlcluster does it (a fast shutdown, then a start): every connection is closed.
    await ctl(pgCluster, 'stop');
    await ctl(pgCluster, 'start');
    const commandSec = (performance.now() - restartStarted) / 1000;
    await watch;
    const readyAgain = readyAt !== undefined;
    const readyAfterSec = ((readyAt ?? performance.now()) - restartStarted) / 1000;
    // A service that died cannot become ready: say so, with its last words.
    const exited = service.child.exitCode ?? service.child.signalCode;
    if (exited !== null) {
      failedChecks.add(`the service process exited (${exited}): ${service.output().trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`);
    }
    await sleep(2000);
    await load.stop();
    await until(async () => (await ledger(databaseUrl)).unpublished === 0, 30_000);
    const d = await ledger(databaseUrl);
    steps.push({
      name: 'PostgreSQL restarted',
      detail:
        `readiness failed during the restart: ${sawNotReady} (${[...failedChecks].join('; ') || 'no check named'}), ` +
        `ready again after ${readyAfterSec.toFixed(1)} s (the restart command took ${commandSec.toFixed(1)} s); ` +
        `${d.ordersWithoutEvent} orders without their event, ${d.ordersWithoutItems} without items; ${load.counts.serverError} 5xx`,
      met: sawNotReady && readyAgain && d.ordersWithoutEvent === 0 && d.ordersWithoutItems === 0,
      figures: {
        sawNotReady,
        readyAfterSec,
        restartCommandSec: commandSec,
        ordersWithoutEvent: d.ordersWithoutEvent,
        ordersWithoutItems: d.ordersWithoutItems,
      },
    });

    // After every outage above, the order projections (order list, items, stock reservations, open checkout sagas)
    // must equal a rebuild from the order events: the rebuild command's --check, run as an operator would run it.
    const rebuild = await rebuildCheck(databaseUrl);
    steps.push({
      name: 'projections equal a rebuild from the events',
      detail: rebuild.report
        ? `${rebuild.report.orders} orders rebuilt from ${rebuild.report.events} events: ${rebuild.report.drift} projection rows drifted (exit ${rebuild.exitCode})`
        : `the rebuild check did not report (exit ${rebuild.exitCode}): ${rebuild.output.slice(0, 300)}`,
      met: rebuild.exitCode === 0 && rebuild.report?.drift === 0,
      figures: {
        orders: rebuild.report?.orders ?? null,
        events: rebuild.report?.events ?? null,
        drift: rebuild.report?.drift ?? null,
      },
    });
  } finally {
    forget();
    await stopService();
    const t = performance.now();
    await teardown();
    opts.log(`  own services stopped and removed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  return { steps, brokerTimeline };
}
