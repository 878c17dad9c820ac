// Backups that are restored: pgBackRest (Debian's `pgbackrest`) with WAL archiving from a drill cluster into an
// encrypted repository (aes-256-cbc, a generated passphrase), full and incremental backups, and point-in-time
// recovery into a new cluster, verified table by table (row counts and checksums).
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { asPostgres, createCluster, ctl, query, run, waitReady, type Cluster } from './cluster.js';

/** A pgBackRest stanza for one cluster, with its own configuration file and repository. */
export interface BackupRepo {
  readonly stanza: string;
  readonly config: string;
  readonly repoPath: string;
}

/**
 * Writes a pgBackRest configuration in `dir` (owned by `postgres`, mode 0600: it holds the repository passphrase)
 * for `source`, and the WAL archiving settings into the cluster's conf.d (`archive_command` pushes each segment).
 * The cluster must be restarted for `archive_mode` to take effect.
 */
export async function configureBackups(dir: string, source: Cluster): Promise<BackupRepo> {
  const stanza = 'ballast';
  const repoPath = path.join(dir, 'repo');
  const config = path.join(dir, 'pgbackrest.conf');
  await mkdir(repoPath, { recursive: true });
  await mkdir(path.join(dir, 'log'), { recursive: true });
  await mkdir(path.join(dir, 'spool'), { recursive: true });
  const passphrase = randomBytes(32).toString('base64');
  await writeFile(
    config,
    [
      '[global]',
      `repo1-path=${repoPath}`,
      'repo1-cipher-type=aes-256-cbc',
      `repo1-cipher-pass=${passphrase}`,
      'repo1-retention-full=2',
      'compress-type=lz4',
      'process-max=1',
      'start-fast=y',
      `log-path=${path.join(dir, 'log')}`,
      `spool-path=${path.join(dir, 'spool')}`,
      `lock-path=${path.join(dir, 'spool')}`,
      'log-level-console=warn',
      '',
      `[${stanza}]`,
      `pg1-path=${source.dataDir}`,
      `pg1-port=${source.port}`,
      '',
    ].join('\n'),
  );
  await chmod(config, 0o600);
  await run('chown', ['-R', 'postgres:postgres', dir]);
  await chmod(dir, 0o700);
  const archive = `${source.confDir}/conf.d/archive.conf`;
  await writeFile(
    archive,
    [
      "archive_mode = 'on'",
      `archive_command = 'pgbackrest --config=${config} --stanza=${stanza} archive-push %p'`,
      "archive_timeout = '10s'",
      '',
    ].join('\n'),
  );
  await run('chown', ['postgres:postgres', archive]);
  return { stanza, config, repoPath };
}

function pgbackrest(repo: BackupRepo, args: readonly string[]): Promise<string> {
  return asPostgres('pgbackrest', [`--config=${repo.config}`, `--stanza=${repo.stanza}`, ...args], 600_000);
}

/** Creates the stanza and checks that WAL archiving works end to end. */
export async function createStanza(repo: BackupRepo): Promise<void> {
  await pgbackrest(repo, ['stanza-create']);
  await pgbackrest(repo, ['check']);
}

/** Takes a backup; answers how long it took and the backup's label. */
export async function takeBackup(
  repo: BackupRepo,
  type: 'full' | 'incr',
): Promise<{ ms: number; label: string }> {
  const started = performance.now();
  await pgbackrest(repo, ['backup', `--type=${type}`]);
  const ms = performance.now() - started;
  const info = JSON.parse(await pgbackrest(repo, ['info', '--output=json'])) as {
    backup: { label: string }[];
  }[];
  return { ms, label: info[0]!.backup.at(-1)!.label };
}

/** Forces the current WAL segment into the archive (so a recovery target just written is restorable). */
export async function flushArchive(repo: BackupRepo, source: Cluster): Promise<void> {
  await query(source.url(), 'SELECT pg_switch_wal()');
  await pgbackrest(repo, ['check']);
}

/**
 * Restores the repository into a new cluster `target` (created here) up to `targetTime` (an ISO instant with
 * milliseconds, in the server's time) and promotes it; answers the time from the start of the restore until the
 * new cluster answers queries with recovery finished.
 */
export async function restoreToTime(repo: BackupRepo, target: Cluster, targetTime: string): Promise<number> {
  const started = performance.now();
  await createCluster(target);
  await run('sh', ['-c', `rm -rf ${target.dataDir}/* ${target.dataDir}/.[!.]*`]);
  await asPostgres(
    'pgbackrest',
    [
      `--config=${repo.config}`,
      `--stanza=${repo.stanza}`,
      `--pg1-path=${target.dataDir}`,
      '--type=time',
      `--target=${targetTime}`,
      '--target-action=promote',
      'restore',
    ],
    600_000,
  );
  // The restored cluster must not push WAL into the source's repository.
  await writeFile(`${target.confDir}/conf.d/archive.conf`, "archive_mode = 'off'\n");
  await ctl(target, 'start');
  await waitReady(target.url(), 120_000);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const [row] = await query<{ r: boolean }>(target.url(), 'SELECT pg_is_in_recovery() AS r');
    if (!row!.r) break;
    if (Date.now() > deadline) throw new Error('restored cluster did not finish recovery within 120 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return performance.now() - started;
}

/** Row count and an order-independent checksum of every row of each table. */
export type TableDigest = Record<string, { rows: number; checksum: string }>;

/** Digests the named tables of `db` (tables that do not exist are skipped). */
export async function digest(url: string, tables: readonly string[]): Promise<TableDigest> {
  const out: TableDigest = {};
  for (const table of tables) {
    const [exists] = await query<{ r: string | null }>(url, 'SELECT to_regclass($1)::text AS r', [table]);
    if (!exists?.r) continue;
    const [row] = await query<{ rows: string; checksum: string | null }>(
      url,
      `SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS checksum FROM ${table} t`,
    );
    out[table] = { rows: Number(row!.rows), checksum: row!.checksum ?? 'empty' };
  }
  return out;
}

/**
 * The chosen instant and the digest of the tables at that instant. Writers are held off for the moment of the read
 * (`LOCK ... IN SHARE MODE` waits for transactions in flight and blocks new writes), so every commit before the
 * instant is in the digest and every commit after it is later than the instant: a restore to the instant must
 * reproduce exactly this digest.
 */
export async function snapshotDigest(
  url: string,
  tables: readonly string[],
): Promise<{ at: string; digest: TableDigest }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const present: string[] = [];
    for (const table of tables) {
      const exists = await client.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [table]);
      if (exists.rows[0]?.r) present.push(table);
    }
    await client.query(`SET LOCAL lock_timeout = '30s'`);
    await client.query(`LOCK TABLE ${present.join(', ')} IN SHARE MODE`);
    const { rows } = await client.query<{ t: string }>(
      `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' AS t`,
    );
    const out: TableDigest = {};
    for (const table of present) {
      const r = await client.query<{ rows: string; checksum: string | null }>(
        `SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) AS checksum FROM ${table} t`,
      );
      out[table] = { rows: Number(r.rows[0]!.rows), checksum: r.rows[0]!.checksum ?? 'empty' };
    }
    await client.query('COMMIT');
    return { at: rows[0]!.t, digest: out };
  } finally {
    await client.end();
  }
}
