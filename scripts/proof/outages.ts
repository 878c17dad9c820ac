import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { KEYS, ROOT, freshDatabase, scrape, sleep, startService, sum, type ServiceProcess } from './service.js';
import { onInterrupt } from './interrupt.js';

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
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly amqpBase: string;
  readonly brokerOutageSec: number;
  readonly log: (line: string) => void;
}

// The machine's own commands for its services.
const services = {
  async stopRedis() {
    await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave']).catch(() => undefined);
  },
  async startRedis() {
    await run('redis-server', [
      '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
      '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log',
    ]);
    await until(async () => (await run('redis-cli', ['-h', '127.0.0.1', 'ping'])).stdout.includes('PONG'), 30_000);
  },
  async stopRabbit() {
    await run('rabbitmqctl', ['stop_app'], { timeout: 60_000 });
  },
  async startRabbit() {
    await run('rabbitmqctl', ['start_app'], { timeout: 120_000 });
  },
  async restartPostgres() {
    const version = readdirSync('/etc/postgresql')[0]!;
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { timeout: 60_000 });
  },
  /** Starts the cluster if it is down (after an interrupted restart); fails harmlessly when it runs. */
  async startPostgres() {
    const version = readdirSync('/etc/postgresql')[0]!;
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { timeout: 60_000 });
  },
  async freshVhost(vhost: string) {
    await run('rabbitmqctl', ['delete_vhost', vhost]).catch(() => undefined);
    await run('rabbitmqctl', ['add_vhost', vhost]);
    await run('rabbitmqctl', ['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
  },
};

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(250);
  }
  return false;
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

/**
 * Stops and restarts the machine's own Redis, RabbitMQ and PostgreSQL under load (with their own commands),
 * kills the service mid-relay, and checks from the database that nothing was lost or applied twice.
 */
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

export async function outages(opts: OutageOptions): Promise<OutageResult> {
  const steps: OutageStep[] = [];
  const brokerTimeline: { t: number; depth: number }[] = [];
  const databaseUrl = await freshDatabase(opts.databaseUrl);
  await services.freshVhost('ballast-proof');
  const amqpUrl = `${opts.amqpBase.replace(/\/+$/, '')}/ballast-proof`;
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: opts.redisUrl, AMQP_URL: amqpUrl, LOAD_SHEDDING: 'ballast' };
  let service: ServiceProcess = await startService(env);
  const url = () => service.url;
  // Interrupted mid-outage, the machine's shared services are started again (each start is a no-op when running).
  const forget = onInterrupt('outages: starting Redis, RabbitMQ and PostgreSQL again', async () => {
    await services.startRedis().catch(() => undefined);
    await services.startRabbit().catch(() => undefined);
    await services.startPostgres().catch(() => undefined);
  });
  try {
    // A. Redis stopped: the limiter fails open (as RetailFlow configures it) and the service stays up.
    opts.log('  Redis: stopping it under load');
    let load = checkouts(url, 20);
    await sleep(2000);
    const before = { ...load.counts };
    await services.stopRedis();
    let healthyDuring = true;
    for (let i = 0; i < 5; i++) {
      await sleep(1000);
      healthyDuring &&= (await fetch(`${url()}/healthz`)).ok;
    }
    const during = { ok: load.counts.ok - before.ok, serverError: load.counts.serverError - before.serverError };
    const storeErrors = sum(await scrape(service.opsUrl), 'ballast_rate_limit_decisions_total', { decision: 'store-error' });
    await services.startRedis();
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
    await services.stopRabbit();
    let peak = 0;
    for (let i = 0; i < opts.brokerOutageSec; i++) {
      await sleep(1000);
      peak = Math.max(peak, await sample());
    }
    await services.startRabbit();
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
    await services.restartPostgres();
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
    await service.stop();
    // Leave the machine as found, whatever happened above.
    await services.startRedis().catch(() => undefined);
    await services.startRabbit().catch(() => undefined);
  }
  return { steps, brokerTimeline };
}
