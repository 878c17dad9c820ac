// Polling outbox vs change data capture (PostgreSQL logical decoding), measured side by side on one cluster.
//
// RetailFlow's relay polls its outbox table: claim a batch (UPDATE ... FOR UPDATE SKIP LOCKED RETURNING), publish,
// mark it published (a second UPDATE), and sleep `pollIntervalMs` (250 ms) when a batch comes back short. The other
// way is to read the outbox inserts from the write-ahead log through a logical replication slot (`pgoutput`, a
// publication on the outbox table) and never touch the table again. This script runs both against the same load on
// a throwaway PostgreSQL 15 cluster with `wal_level = logical` (the machine's main cluster is never touched) and
// reports, for each: delivery lag (insert to relay), the relay's database work (statements, rows written, WAL
// bytes), CPU of the relay process and of its server backend, and the same at idle.
//
//   npx tsx scripts/cdc/main.ts [--rate 200] [--seconds 20] [--idle-seconds 10] [--poll-ms 250]
//
// Prints a Markdown table, then one JSON line. Needs root (pg_createcluster) like the disaster drills.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { cluster, createCluster, ctl, dropCluster, query, run, type Cluster } from '../dr/cluster.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    'idle-seconds': { type: 'string', default: '10' },
    'poll-ms': { type: 'string', default: '250' },
    port: { type: 'string', default: '5449' },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const IDLE_SECONDS = Number(values['idle-seconds']);
const POLL_MS = Number(values['poll-ms']);
const BATCH = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The outbox table as RetailFlow's migrations create it (the columns the relay reads and writes).
const SCHEMA = `
CREATE TABLE outbox (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  published_at BIGINT,
  dead_lettered_at BIGINT,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL AND dead_lettered_at IS NULL;
CREATE PUBLICATION ballast_outbox FOR TABLE outbox WITH (publish = 'insert');
`;

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 100 Hz). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const processCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function walBytes(url: string): Promise<number> {
  const [row] = await query<{ b: string }>(
    url,
    `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS b`,
  );
  return Number(row!.b);
}

const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';

/**
 * Open-loop writer: `rate` single-row transactions per second for `seconds` (pgbench, a process of its own, so the
 * relay's CPU is this process's alone), like checkouts writing their event. Answers the rows written.
 */
async function write(c: Cluster, db: string, rate: number, seconds: number): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ballast-cdc-'));
  const script = path.join(dir, 'insert.sql');
  await writeFile(
    script,
    `INSERT INTO outbox (id, type, tenant_id, aggregate_id, payload, created_at) VALUES (gen_random_uuid()::text, 'order.created', 'acme', gen_random_uuid()::text, '{"orderId":"o","totalCents":1999}', (extract(epoch from clock_timestamp()) * 1000)::bigint);\n`,
  );
  const before = await query<{ n: string }>(c.url(db), 'SELECT count(*)::text AS n FROM outbox');
  await run(
    PGBENCH,
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(c.port),
      '-U',
      'postgres',
      '-n',
      '-c',
      '4',
      '-j',
      '1',
      '-R',
      String(rate),
      '-T',
      String(seconds),
      '-f',
      script,
      db,
    ],
    (seconds + 60) * 1000,
  );
  await rm(dir, { recursive: true, force: true });
  const after = await query<{ n: string }>(c.url(db), 'SELECT count(*)::text AS n FROM outbox');
  return Number(after[0]!.n) - Number(before[0]!.n);
}

interface Relay {
  /** Delivery lags (ms) of the events seen so far. */
  readonly lags: number[];
  /** The server process that serves this relay (a backend, or the walsender). */
  serverPid(): Promise<number>;
  statements(): number;
  stop(): Promise<void>;
}

/** The polling relay, the way RetailFlow's OutboxRelay does it: claim, publish, mark, sleep when short. */
async function pollingRelay(url: string): Promise<Relay> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const [{ pid }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
    { pid: number },
  ];
  const lags: number[] = [];
  let statements = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = Date.now();
      const claimed = await client.query<{ id: string; created_at: string }>(
        `UPDATE outbox SET locked_until = $1, attempts = attempts + 1 WHERE seq IN (
           SELECT seq FROM outbox
           WHERE published_at IS NULL AND dead_lettered_at IS NULL AND next_attempt_at <= $2 AND locked_until <= $2
           ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING id, created_at`,
        [now + 30_000, now, BATCH],
      );
      statements++;
      const seen = Date.now();
      for (const row of claimed.rows) lags.push(seen - Number(row.created_at));
      if (claimed.rows.length > 0) {
        await client.query(`UPDATE outbox SET published_at = $1, locked_until = 0 WHERE id = ANY($2)`, [
          Date.now(),
          claimed.rows.map((r) => r.id),
        ]);
        statements++;
      }
      if (claimed.rows.length < BATCH) await sleep(POLL_MS);
    }
  })();
  return {
    lags,
    serverPid: () => Promise.resolve(pid),
    statements: () => statements,
    async stop() {
      running = false;
      await loop;
      await client.end();
    },
  };
}

/** The change-data-capture relay: outbox inserts streamed from a logical replication slot (pgoutput). */
async function cdcRelay(c: Cluster, db: string): Promise<Relay> {
  await query(c.url(db), `SELECT pg_create_logical_replication_slot('ballast_outbox', 'pgoutput')`);
  const lags: number[] = [];
  const service = new LogicalReplicationService(
    { connectionString: c.url(db) },
    { acknowledge: { auto: true, timeoutSeconds: 1 } },
  );
  service.on('data', (_lsn: string, log: { tag: string; new?: { created_at: string } }) => {
    if (log.tag === 'insert' && log.new) lags.push(Date.now() - Number(log.new.created_at));
  });
  service.on('error', () => undefined);
  void service.subscribe(
    new PgoutputPlugin({ protoVersion: 1, publicationNames: ['ballast_outbox'] }),
    'ballast_outbox',
  );
  let pid = 0;
  for (let i = 0; i < 100 && pid === 0; i++) {
    const rows = await query<{ pid: number }>(
      c.url(db),
      `SELECT pid FROM pg_stat_replication WHERE application_name IS NOT NULL LIMIT 1`,
    );
    pid = rows[0]?.pid ?? 0;
    if (pid === 0) await sleep(50);
  }
  return {
    lags,
    serverPid: () => Promise.resolve(pid),
    statements: () => 0,
    async stop() {
      await service.stop();
      await query(c.url(db), `SELECT pg_drop_replication_slot('ballast_outbox')`).catch(() => undefined);
    },
  };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface ModeResult {
  readonly mode: 'polling' | 'cdc';
  readonly written: number;
  readonly delivered: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** Statements the relay sent per second under load and at idle. */
  readonly statementsPerSec: number;
  readonly idleStatementsPerSec: number;
  /** WAL bytes per event under load: the insert, plus what the relay writes back (polling marks each row). */
  readonly walBytesPerEvent: number;
  /** CPU seconds per 1,000 events: the relay process, and the server process serving it. */
  readonly relayCpuPer1k: number;
  readonly serverCpuPer1k: number;
  /** CPU milliseconds per idle second: relay process and server process. */
  readonly idleRelayCpuMsPerSec: number;
  readonly idleServerCpuMsPerSec: number;
}

async function runMode(mode: 'polling' | 'cdc', c: Cluster): Promise<ModeResult> {
  const db = `cdc_${mode}`;
  await query(c.url(), `DROP DATABASE IF EXISTS ${db}`);
  await query(c.url(), `CREATE DATABASE ${db}`);
  const url = c.url(db);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(SCHEMA);
  await client.end();
  const relay = mode === 'polling' ? await pollingRelay(url) : await cdcRelay(c, db);
  const serverPid = await relay.serverPid();
  await sleep(1000);

  // Idle: no writes; what the relay costs doing nothing.
  const idle0 = { relay: processCpu(), server: await cpuSeconds(serverPid), statements: relay.statements() };
  await sleep(IDLE_SECONDS * 1000);
  const idle1 = { relay: processCpu(), server: await cpuSeconds(serverPid), statements: relay.statements() };

  // Load: pgbench writes from its own process; this process runs only the relay. The server process is the
  // relay's own backend or walsender.
  const wal0 = await walBytes(url);
  const load0 = { relay: processCpu(), server: await cpuSeconds(serverPid), statements: relay.statements() };
  const written = await write(c, db, RATE, SECONDS);
  for (let i = 0; i < 100 && relay.lags.length < written; i++) await sleep(100);
  const load1 = { relay: processCpu(), server: await cpuSeconds(serverPid), statements: relay.statements() };
  const wal1 = await walBytes(url);
  await relay.stop();
  return {
    mode,
    written,
    delivered: relay.lags.length,
    lagP50Ms: quantile(relay.lags, 0.5),
    lagP99Ms: quantile(relay.lags, 0.99),
    lagMaxMs: Math.max(...relay.lags),
    statementsPerSec: (load1.statements - load0.statements) / SECONDS,
    idleStatementsPerSec: (idle1.statements - idle0.statements) / IDLE_SECONDS,
    walBytesPerEvent: (wal1 - wal0) / written,
    relayCpuPer1k: ((load1.relay - load0.relay) * 1000) / written,
    serverCpuPer1k: ((load1.server - load0.server) * 1000) / written,
    idleRelayCpuMsPerSec: ((idle1.relay - idle0.relay) * 1000) / IDLE_SECONDS,
    idleServerCpuMsPerSec: ((idle1.server - idle0.server) * 1000) / IDLE_SECONDS,
  };
}

const c = cluster('ballast_cdc', Number(values.port));
await dropCluster(c);
await createCluster(c, ['wal_level = logical', 'max_replication_slots = 4']);
await ctl(c, 'start');
let results: ModeResult[] = [];
try {
  results = [await runMode('polling', c), await runMode('cdc', c)];
} finally {
  await dropCluster(c);
}
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const rows = results;
console.log(
  [
    `# Outbox relay: polling vs change data capture (${RATE} events/s for ${SECONDS} s, idle ${IDLE_SECONDS} s, poll ${POLL_MS} ms)`,
    '',
    '| relay | delivered | lag p50 / p99 / max (ms) | statements/s (load / idle) | WAL bytes per event | relay CPU s per 1k events | server CPU s per 1k events | idle CPU ms/s (relay / server) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.delivered} of ${r.written} | ${fmt(r.lagP50Ms)} / ${fmt(r.lagP99Ms)} / ${fmt(r.lagMaxMs)} | ${fmt(r.statementsPerSec)} / ${fmt(r.idleStatementsPerSec)} | ${fmt(r.walBytesPerEvent, 0)} | ${fmt(r.relayCpuPer1k, 3)} | ${fmt(r.serverCpuPer1k, 3)} | ${fmt(r.idleRelayCpuMsPerSec, 2)} / ${fmt(r.idleServerCpuMsPerSec, 2)} |`,
    ),
    '',
    JSON.stringify({
      rate: RATE,
      seconds: SECONDS,
      idleSeconds: IDLE_SECONDS,
      pollMs: POLL_MS,
      results: rows,
    }),
  ].join('\n'),
);
