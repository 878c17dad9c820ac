// PostgreSQL 15 clusters for the disaster-recovery drills, made with Debian's postgresql-common tools
// (pg_createcluster, pg_ctlcluster, pg_dropcluster). Every cluster the drills create is named `ballast_*` and listens
// on loopback on its own port; the machine's main cluster (5432) is never touched.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
const VERSION = '15';

/** One cluster made by the drills. */
export interface Cluster {
  readonly name: string;
  readonly port: number;
  readonly dataDir: string;
  readonly confDir: string;
  /** `postgres://postgres@127.0.0.1:<port>/<db>`. */
  url(db?: string): string;
}

/** Runs a command and answers its stdout; the error carries stderr. */
export async function run(file: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await exec(file, [...args], { timeout: timeoutMs, maxBuffer: 16 * 2 ** 20 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

/** Runs a command as the `postgres` user (pg_basebackup, pg_rewind, pgbackrest need the cluster owner). */
export function asPostgres(file: string, args: readonly string[], timeoutMs?: number): Promise<string> {
  return run('runuser', ['-u', 'postgres', '--', file, ...args], timeoutMs);
}

/** The handle of cluster `name` on `port` (whether or not it exists yet). */
export function cluster(name: string, port: number): Cluster {
  if (!/^ballast_[a-z0-9_]+$/.test(name)) throw new Error(`drill clusters are named ballast_*, got ${name}`);
  return {
    name,
    port,
    dataDir: `/var/lib/postgresql/${VERSION}/${name}`,
    confDir: `/etc/postgresql/${VERSION}/${name}`,
    url: (db = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${db}`,
  };
}

/**
 * Creates an empty cluster with trust authentication on loopback (like the machine's test cluster), and settings
 * for replication and rewinding: `wal_log_hints` (pg_rewind), replication slots, hot standby feedback.
 */
export async function createCluster(c: Cluster, extraConf: readonly string[] = []): Promise<void> {
  await run('pg_createcluster', [
    VERSION,
    c.name,
    '--port',
    String(c.port),
    '--',
    '--auth-local=trust',
    '--auth-host=trust',
    '--no-sync',
  ]);
  const conf = `${c.confDir}/conf.d/ballast-drill.conf`;
  await writeFile(
    conf,
    [
      "listen_addresses = '127.0.0.1'",
      'wal_log_hints = on',
      'hot_standby_feedback = on',
      'max_wal_senders = 10',
      "wal_keep_size = '256MB'",
      "shared_buffers = '32MB'",
      ...extraConf,
      '',
    ].join('\n'),
  );
  await run('chown', ['postgres:postgres', conf]);
}

/** Starts, stops (`fast` or `immediate`, i.e. a crash) or promotes a cluster. */
export async function ctl(c: Cluster, action: 'start' | 'stop' | 'promote' | 'crash'): Promise<void> {
  if (action === 'crash') await run('pg_ctlcluster', [VERSION, c.name, 'stop', '-m', 'immediate']);
  else if (action === 'stop') await run('pg_ctlcluster', [VERSION, c.name, 'stop', '-m', 'fast']);
  else await run('pg_ctlcluster', [VERSION, c.name, action]);
}

/** Stops and removes a drill cluster if it exists (never fails: cleanup runs after failures too). */
export async function dropCluster(c: Cluster): Promise<void> {
  await run('pg_dropcluster', [VERSION, c.name, '--stop']).catch(() => undefined);
  await rm(c.dataDir, { recursive: true, force: true }).catch(() => undefined);
  await rm(c.confDir, { recursive: true, force: true }).catch(() => undefined);
}

/** Names of existing `ballast_*` clusters (for cleanup of an earlier run that was killed). */
export async function drillClusters(): Promise<string[]> {
  const out = await run('pg_lsclusters', ['-h']).catch(() => '');
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === VERSION && /^ballast_/.test(f[1] ?? ''))
    .map((f) => f[1]!);
}

/** Runs one query on a fresh connection (short-lived: drills kill servers under their clients). */
export async function query<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Waits until the server answers (at most `timeoutMs`). */
export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await query(url, 'SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Makes `standby` a streaming replica of `primary`: its data directory is replaced by a `pg_basebackup` (with a
 * replication slot named after the standby) and it starts in hot standby, naming itself `application_name=<name>`
 * so the primary can list it in `synchronous_standby_names`.
 */
export async function createStandby(primary: Cluster, standby: Cluster): Promise<void> {
  await createCluster(standby);
  await run('sh', ['-c', `rm -rf ${standby.dataDir}/* ${standby.dataDir}/.[!.]*`]);
  await query(primary.url(), `SELECT pg_create_physical_replication_slot($1)`, [standby.name]).catch(
    () => undefined,
  );
  await asPostgres('pg_basebackup', [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    standby.dataDir,
    '-X',
    'stream',
    '-S',
    standby.name,
    '-c',
    'fast',
  ]);
  await followPrimary(standby, primary);
  await ctl(standby, 'start');
  await waitReady(standby.url());
}

/** Points a (stopped) cluster at `primary` as a standby: standby.signal and primary_conninfo with its name. */
export async function followPrimary(standby: Cluster, primary: Cluster): Promise<void> {
  const conf = `${standby.confDir}/conf.d/standby.conf`;
  const signal = `${standby.dataDir}/standby.signal`;
  await writeFile(
    conf,
    [
      `primary_conninfo = 'host=127.0.0.1 port=${primary.port} user=postgres application_name=${standby.name}'`,
      `primary_slot_name = '${standby.name}'`,
      '',
    ].join('\n'),
  );
  await writeFile(signal, '');
  await run('chown', ['postgres:postgres', conf, signal]);
}

/** Removes the standby settings of a promoted cluster (so a restart does not make it follow anyone). */
export async function forgetPrimary(c: Cluster): Promise<void> {
  await rm(`${c.confDir}/conf.d/standby.conf`, { force: true });
}

/**
 * Synchronous (`on`: a commit waits until the standby has flushed it) or asynchronous replication on `primary`,
 * reloaded without a restart.
 */
export async function setSynchronous(primary: Cluster, standbyName: string | undefined): Promise<void> {
  if (standbyName === undefined) await query(primary.url(), `ALTER SYSTEM RESET synchronous_standby_names`);
  else await query(primary.url(), `ALTER SYSTEM SET synchronous_standby_names = '${standbyName}'`);
  await query(primary.url(), 'SELECT pg_reload_conf()');
}

/**
 * Brings a failed old primary back as a standby of the new one: `pg_rewind` discards the writes it made after the
 * timelines forked (they were never acknowledged under synchronous replication), then it follows the new primary.
 * It never starts as a primary, so it cannot accept writes on the old timeline.
 */
export async function rejoinAsStandby(old: Cluster, primary: Cluster): Promise<void> {
  await query(primary.url(), `SELECT pg_create_physical_replication_slot($1)`, [old.name]).catch(
    () => undefined,
  );
  // A promoted server writes its new timeline to its control file at the next checkpoint, which is asynchronous
  // after a promotion; until then pg_rewind sees "the same timeline" and rewinds nothing.
  await query(primary.url(), 'CHECKPOINT');
  await asPostgres('/usr/lib/postgresql/15/bin/pg_rewind', [
    `--target-pgdata=${old.dataDir}`,
    // Debian keeps the configuration outside the data directory; pg_rewind needs it for the crash recovery it
    // runs first (the old primary crashed).
    `--config-file=${old.confDir}/postgresql.conf`,
    `--source-server=host=127.0.0.1 port=${primary.port} user=postgres dbname=postgres`,
  ]);
  await followPrimary(old, primary);
  await ctl(old, 'start');
  await waitReady(old.url());
}

/** The cluster's timeline and whether it is a standby. */
export async function role(c: Cluster): Promise<{ timeline: number; standby: boolean }> {
  const [row] = await query<{ timeline_id: number; standby: boolean }>(
    c.url(),
    'SELECT timeline_id, pg_is_in_recovery() AS standby FROM pg_control_checkpoint()',
  );
  return { timeline: Number(row!.timeline_id), standby: row!.standby };
}
