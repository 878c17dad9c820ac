// The `disaster` section of the proof: two regions on this machine with real PostgreSQL streaming replication,
// a region failover under steady checkout load (synchronous replication), a fail-back the same way under
// asynchronous replication, the old primary fenced when it returns, and a backup restored to a chosen instant and
// verified. Every cluster is a `ballast_*` cluster on ports 5441-5443 made here and dropped at the end, even on
// failure; the machine's main PostgreSQL is never touched. Runbooks: docs/runbooks/region-failover.md,
// docs/runbooks/region-fail-back.md, docs/runbooks/restore-from-backup.md.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  configureBackups,
  createStanza,
  digest,
  flushArchive,
  restoreToTime,
  snapshotDigest,
  takeBackup,
} from '../dr/backup.js';
import {
  cluster,
  createCluster,
  createStandby,
  ctl,
  dropCluster,
  forgetPrimary,
  query,
  rejoinAsStandby,
  role,
  setSynchronous,
  waitReady,
  type Cluster,
} from '../dr/cluster.js';
import {
  killInstance,
  spawnInstance,
  startLoad,
  startProxy,
  waitHealthy,
  type Instance,
  type Proxy,
} from '../dr/regions.js';
import { freePort, sleep } from './service.js';
import { onInterrupt } from './interrupt.js';

/** One goal of the section. `goal: null` marks a figure that is measured and reported, not judged. */
export interface DisasterGoal {
  readonly value: number | null;
  readonly goal: number | null;
  readonly met: boolean;
}

/** What one region failover measured. */
export interface FailoverDrill {
  readonly name: string;
  readonly replication: 'sync' | 'async';
  readonly acknowledged: number;
  readonly rtoSec: number | null;
  /** Acknowledged orders missing on the new primary. */
  readonly lostOrders: number;
  readonly duplicateEffects: number;
  /** Seconds from the failure until every acknowledged, paid order was fulfilled in the surviving region. */
  readonly eventsResumedSec: number | null;
  readonly unfulfilled: number;
  readonly tokenBefore: number;
  readonly tokenAfter: number;
  /** Writes the old primary accepted after it returned (it must come back as a standby). */
  readonly oldPrimaryWrites: number;
  readonly oldPrimaryTimeline: number;
  readonly newPrimaryTimeline: number;
  /** The standby streamed from the failing primary when the drill began. */
  readonly standbyStreaming: boolean;
  /** Outbox events of the last 5 minutes published again after the promotion. */
  readonly republished: number;
}

/** Everything the section measured. */
export interface DisasterResult {
  readonly replication: {
    readonly commits: number;
    readonly syncP50Ms: number;
    readonly syncP99Ms: number;
    readonly asyncP50Ms: number;
    readonly asyncP99Ms: number;
    readonly asyncMaxReplayLagMs: number;
    readonly asyncMaxLagBytes: number;
  };
  readonly drills: readonly FailoverDrill[];
  readonly backup: {
    readonly dataBytes: number;
    readonly rows: number;
    readonly fullSec: number;
    readonly incrSec: number;
    readonly restoreSec: number;
    /**
     * Age of the newest archived WAL at the chosen instant: the writes a loss of region A's disk would take with it
     * when restoring from the repository alone (archive_timeout, 10 s, bounds it under steady writes).
     */
    readonly dataLossWindowSec: number;
    readonly tables: Record<string, { rows: number; match: boolean }>;
    readonly mismatched: number;
  };
  readonly durationSec: number;
  readonly goals: Record<string, DisasterGoal>;
}

const TABLES = ['orders', 'order_items', 'outbox', 'audit_log', 'shipments', 'processed_events', 'relay_leases'];

function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function commitLatencies(url: string, n: number): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE IF NOT EXISTS dr_probe (id bigserial PRIMARY KEY, pad text)');
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await client.query('INSERT INTO dr_probe (pad) VALUES ($1)', ['x'.repeat(200)]);
      out.push(performance.now() - t);
    }
    return out.sort((a, b) => a - b);
  } finally {
    await client.end();
  }
}

async function relayToken(c: Cluster): Promise<number> {
  const [row] = await query<{ t: string | null }>(c.url('retailflow'), 'SELECT max(token) AS t FROM relay_leases');
  return Number(row?.t ?? 0);
}

/**
 * Waits (bounded) until `n` warm instances hold connections to the standby `c`: their modules are loaded and they
 * poll for the promotion, so the drill measures a warm app tier and not Node's start-up on a busy machine.
 */
async function waitWarm(c: Cluster, n: number, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const [row] = await query<{ n: string }>(
      c.url(),
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'retailflow' AND backend_type = 'client backend'`,
    ).catch(() => [{ n: '0' }]);
    if (Number(row!.n) >= n) return;
    if (Date.now() > deadline) {
      log(`disaster: warm instances on ${c.name} not connected after 180 s; drilling anyway`);
      return;
    }
    await sleep(250);
  }
}

/** Waits (bounded) until `standby` streams from `primary`. */
async function waitStreaming(primary: Cluster, standby: Cluster): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rows = await query(
      primary.url(),
      `SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'`,
      [standby.name],
    ).catch(() => []);
    if (rows.length > 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/**
 * Fails the region whose database is `from` (its PostgreSQL crashes, its instances are SIGKILLed) under steady
 * checkouts through HAProxy, promotes `to`, starts the surviving region's instances on it, and measures.
 */
async function failover(options: {
  name: string;
  replication: 'sync' | 'async';
  from: Cluster;
  to: Cluster;
  failing: Instance[];
  surviving: Instance[];
  proxy: Proxy;
  rate: number;
  warmSec: number;
  afterSec: number;
  log: (line: string) => void;
}): Promise<FailoverDrill> {
  const { from, to, log } = options;
  await waitWarm(to, options.surviving.length, log);
  const streaming = await waitStreaming(from, to);
  const load = startLoad(options.proxy.url, options.rate);
  await sleep(options.warmSec * 1000);
  const tokenBefore = await relayToken(from);
  const failedAt = Date.now();
  log(`disaster: ${options.name}: region fails (${from.name} crashed, instances killed)`);
  await Promise.all([ctl(from, 'crash'), ...options.failing.map((i) => killInstance(i))]);
  // Answers that were already on their way from region A do not count as recovery.
  const deadAt = Date.now();
  await ctl(to, 'promote');
  await forgetPrimary(to);
  await waitReady(to.url('retailflow'));
  // Events the failed region published in its last minutes may have died with it (in its broker, or with effects
  // that had not replicated yet): publish them again; consumers drop the ones they already applied (runbook step 5).
  const [replayed] = await query<{ n: string }>(
    to.url('retailflow'),
    `WITH r AS (UPDATE outbox SET published_at = NULL, locked_until = 0
                WHERE published_at > floor(extract(epoch FROM clock_timestamp()) * 1000) - 300000 RETURNING 1)
     SELECT count(*) AS n FROM r`,
  );
  // Wait for the first checkout acknowledged after the failure (bounded), then keep the load on for a while.
  const deadline = Date.now() + 60_000;
  while (!load.acks.some((t) => t > deadAt) && Date.now() < deadline) await sleep(100);
  const firstAck = load.acks.find((t) => t > deadAt);
  await sleep(options.afterSec * 1000);
  await load.stop();
  const rtoSec = firstAck === undefined ? null : (firstAck - failedAt) / 1000;
  log(`disaster: ${options.name}: checkouts succeed again after ${rtoSec?.toFixed(1) ?? 'never'} s`);

  const acked = load.checkouts.filter((c) => c.ackedAt !== undefined).map((c) => c.key);
  const url = to.url('retailflow');
  const [present] = await query<{ n: string }>(
    url,
    `SELECT count(*) AS n FROM orders WHERE tenant_id = 'acme' AND idempotency_key = ANY($1::text[])`,
    [acked],
  );
  const lostOrders = acked.length - Number(present!.n);
  // Effects applied twice: an order fulfilled (audit entry) or shipped more than once.
  const [dups] = await query<{ n: string }>(
    url,
    `SELECT (SELECT count(*) - count(DISTINCT target_id) FROM audit_log WHERE action = 'order.fulfilled')
          + (SELECT count(*) - count(DISTINCT (tenant_id, order_id)) FROM shipments) AS n`,
  );
  // The relay and the fulfilment consumer resume in the surviving region: every acknowledged paid order ends
  // fulfilled there (the relay first waits for the old leader's lease to expire).
  let unfulfilled = Number.NaN;
  let eventsResumedSec: number | null = null;
  const drainDeadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await query<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM orders WHERE tenant_id = 'acme' AND status = 'confirmed' AND idempotency_key = ANY($1::text[])`,
      [acked],
    );
    unfulfilled = Number(row!.n);
    if (unfulfilled === 0) {
      eventsResumedSec = (Date.now() - failedAt) / 1000;
      break;
    }
    if (Date.now() > drainDeadline) break;
    await sleep(250);
  }
  const tokenAfter = await relayToken(to);

  // The old primary returns: rewound and started as a standby of the new one, never as a primary.
  log(`disaster: ${options.name}: old primary ${from.name} returns as a standby (pg_rewind)`);
  await rejoinAsStandby(from, to);
  // The failed region's app tier comes back warm, waiting for its database to be promoted again.
  for (const i of options.failing) spawnInstance(i, from.url('retailflow'));
  const oldRole = await role(from);
  let oldPrimaryWrites = 0;
  try {
    await query(from.url('retailflow'), `INSERT INTO relay_leases (key, owner, token, expires_at) VALUES ('x', 'x', 1, 0)`);
    oldPrimaryWrites = 1;
  } catch {
    // cannot execute INSERT in a read-only transaction: fenced
  }
  const newRole = await role(to);
  return {
    name: options.name,
    replication: options.replication,
    acknowledged: acked.length,
    rtoSec,
    lostOrders,
    duplicateEffects: Number(dups!.n),
    eventsResumedSec,
    unfulfilled,
    tokenBefore,
    tokenAfter,
    oldPrimaryWrites: oldPrimaryWrites + (oldRole.standby ? 0 : 1),
    oldPrimaryTimeline: oldRole.timeline,
    newPrimaryTimeline: newRole.timeline,
    standbyStreaming: streaming,
    republished: Number(replayed!.n),
  };
}

/** Runs the section; `quick` keeps it short for CI. */
export async function disaster(options: { quick: boolean; log: (line: string) => void }): Promise<DisasterResult> {
  const { quick, log } = options;
  const started = performance.now();
  const a = cluster('ballast_a', 5441);
  const b = cluster('ballast_b', 5442);
  const restored = cluster('ballast_r', 5443);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ballast-dr-'));
  await chmod(dir, 0o711); // the postgres user reaches the backup repository below it (which is its own, 0700)
  const instances: Instance[] = [];
  let proxy: Proxy | undefined;
  let load: { stop(): Promise<void> } | undefined;
  // Interrupted, the clusters (daemons of their own, not the proof's children) are dropped; the instances, proxy and
  // load are the proof's children, stopped with the rest.
  const forget = onInterrupt('disaster: dropping the drill clusters', async () => {
    for (const c of [a, b, restored]) await dropCluster(c);
    await rm(dir, { recursive: true, force: true });
  });
  try {
    for (const c of [a, b, restored]) await dropCluster(c); // left over from a run that was killed
    log('disaster: region A primary (ballast_a :5441) with WAL archiving to an encrypted pgBackRest repository');
    await createCluster(a);
    const repo = await configureBackups(path.join(dir, 'backup'), a);
    await ctl(a, 'start');
    await waitReady(a.url());
    await query(a.url(), 'CREATE DATABASE retailflow');
    await createStanza(repo);
    log('disaster: region B hot standby (ballast_b :5442) from pg_basebackup, streaming');
    await createStandby(a, b);

    for (const [name, region] of [
      ['a1', 'a'],
      ['a2', 'a'],
      ['b1', 'b'],
      ['b2', 'b'],
    ] as const) {
      instances.push({ name, region, port: await freePort(), paymentPort: await freePort() });
    }
    const regionA = instances.filter((i) => i.region === 'a');
    const regionB = instances.filter((i) => i.region === 'b');
    // Region A serves; region B's instances start warm against B's standby and listen once it is promoted.
    spawnInstance(regionA[0]!, a.url('retailflow'));
    await waitHealthy(regionA[0]!); // the first instance applies the migrations
    for (const i of [...regionA.slice(1), ...regionB]) {
      spawnInstance(i, i.region === 'a' ? a.url('retailflow') : b.url('retailflow'));
    }
    await waitHealthy(regionA[1]!);
    proxy = await startProxy(dir, instances);

    // Replication: commit latency with and without a synchronous standby, and lag under async writes.
    const commits = quick ? 100 : 500;
    await setSynchronous(a, 'ballast_b');
    const sync = await commitLatencies(a.url('retailflow'), commits);
    await setSynchronous(a, undefined);
    let maxLagMs = 0;
    let maxLagBytes = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [r] = await query<{ ms: number | null; bytes: string | null }>(
          a.url(),
          `SELECT EXTRACT(epoch FROM replay_lag) * 1000 AS ms, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS bytes
           FROM pg_stat_replication WHERE application_name = 'ballast_b'`,
        ).catch(() => []);
        maxLagMs = Math.max(maxLagMs, Number(r?.ms ?? 0));
        maxLagBytes = Math.max(maxLagBytes, Number(r?.bytes ?? 0));
        await sleep(50);
      }
    })();
    const asyncLat = await commitLatencies(a.url('retailflow'), commits);
    sampling = false;
    await sampler;
    const replication = {
      commits,
      syncP50Ms: quantile(sync, 0.5),
      syncP99Ms: quantile(sync, 0.99),
      asyncP50Ms: quantile(asyncLat, 0.5),
      asyncP99Ms: quantile(asyncLat, 0.99),
      asyncMaxReplayLagMs: maxLagMs,
      asyncMaxLagBytes: maxLagBytes,
    };
    log(
      `disaster: commit p50 sync ${replication.syncP50Ms.toFixed(2)} ms, async ${replication.asyncP50Ms.toFixed(2)} ms; max replay lag ${maxLagMs.toFixed(1)} ms`,
    );

    // Backups: full, checkouts, incremental, checkouts, the chosen instant, more checkouts; restore to the instant.
    log('disaster: backups: full, incremental, then point-in-time recovery into ballast_r :5443');
    const rate = quick ? 8 : 15;
    let l = startLoad(proxy.url, rate);
    load = l;
    await sleep((quick ? 2 : 5) * 1000);
    const full = await takeBackup(repo, 'full');
    await sleep((quick ? 2 : 5) * 1000);
    const incr = await takeBackup(repo, 'incr');
    await sleep((quick ? 2 : 5) * 1000);
    await l.stop();
    load = undefined;
    await sleep(1500); // let the relay and the consumer settle, so the instant is a quiet point
    // If region A's disk were lost now, the archive misses what was committed since the last archived segment.
    const [archived] = await query<{ s: number | null }>(
      a.url(),
      'SELECT EXTRACT(epoch FROM clock_timestamp() - last_archived_time) AS s FROM pg_stat_archiver',
    );
    const { at, digest: source } = await snapshotDigest(a.url('retailflow'), TABLES);
    const [size] = await query<{ bytes: string }>(a.url(), `SELECT pg_database_size('retailflow') AS bytes`);
    await sleep(500);
    l = startLoad(proxy.url, rate); // writes after the instant must not appear in the restore
    load = l;
    await sleep(2000);
    await l.stop();
    load = undefined;
    await flushArchive(repo, a);
    const restoreMs = await restoreToTime(repo, restored, at);
    const copy = await digest(restored.url('retailflow'), TABLES);
    const tables: Record<string, { rows: number; match: boolean }> = {};
    for (const [t, d] of Object.entries(source)) {
      tables[t] = { rows: d.rows, match: copy[t]?.checksum === d.checksum && copy[t]?.rows === d.rows };
    }
    await dropCluster(restored);
    const backup = {
      dataBytes: Number(size!.bytes),
      rows: Object.values(source).reduce((s, d) => s + d.rows, 0),
      fullSec: full.ms / 1000,
      incrSec: incr.ms / 1000,
      restoreSec: restoreMs / 1000,
      dataLossWindowSec: Number(archived?.s ?? Number.NaN),
      tables,
      mismatched: Object.values(tables).filter((t) => !t.match).length,
    };
    log(
      `disaster: restore to ${at}: ${Object.keys(tables).length} tables, ${backup.mismatched} mismatched, restore ${backup.restoreSec.toFixed(1)} s`,
    );

    // Region failover with synchronous replication: A fails, B takes over.
    await setSynchronous(a, 'ballast_b');
    const drillSec = { rate, warmSec: quick ? 3 : 8, afterSec: quick ? 3 : 8, proxy, log };
    const toB = await failover({
      name: 'failover A→B (sync)',
      replication: 'sync',
      from: a,
      to: b,
      failing: regionA,
      surviving: regionB,
      ...drillSec,
    });
    // Fail-back drilled as the harder case, an unplanned loss of B with asynchronous replication.
    const toA = await failover({
      name: 'fail-back B→A (async)',
      replication: 'async',
      from: b,
      to: a,
      failing: regionB,
      surviving: regionA,
      ...drillSec,
    });
    const drills = [toB, toA];
    const rtoWorst = Math.max(...drills.map((d) => d.rtoSec ?? Number.POSITIVE_INFINITY));
    const goals: Record<string, DisasterGoal> = {
      rtoSec: { value: rtoWorst, goal: 30, met: rtoWorst <= 30 },
      rpoSyncLostOrders: { value: toB.lostOrders, goal: 0, met: toB.lostOrders === 0 },
      rpoAsyncLostOrders: { value: toA.lostOrders, goal: null, met: true },
      duplicateEffects: {
        value: toB.duplicateEffects + toA.duplicateEffects,
        goal: 0,
        met: toB.duplicateEffects + toA.duplicateEffects === 0,
      },
      eventsResumed: {
        value: toB.unfulfilled + toA.unfulfilled,
        goal: 0,
        met: toB.unfulfilled + toA.unfulfilled === 0,
      },
      relayTokenAdvances: {
        value: drills.filter((d) => d.tokenAfter > d.tokenBefore).length,
        goal: drills.length,
        met: drills.every((d) => d.tokenAfter > d.tokenBefore),
      },
      oldPrimaryFenced: {
        value: toB.oldPrimaryWrites + toA.oldPrimaryWrites,
        goal: 0,
        met: toB.oldPrimaryWrites + toA.oldPrimaryWrites === 0,
      },
      restoreMatches: { value: backup.mismatched, goal: 0, met: backup.mismatched === 0 && Object.keys(tables).length > 0 },
    };
    return {
      replication,
      drills,
      backup,
      durationSec: (performance.now() - started) / 1000,
      goals,
    };
  } finally {
    forget();
    await load?.stop().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    for (const i of instances) await killInstance(i).catch(() => undefined);
    for (const c of [a, b, restored]) await dropCluster(c);
    await rm(dir, { recursive: true, force: true });
    log(`disaster: cleaned up (clusters dropped, processes stopped) after ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
}
