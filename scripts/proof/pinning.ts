// CPU pinning for the overload measurement: the service on one core, the load generator and PostgreSQL on the other,
// so that what the proof measures is the service's own capacity rather than how the scheduler shares two cores
// between the service, the database and the client that loads it. Linux `taskset` (util-linux); every affinity
// changed is put back when the measurement ends.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';

const run = promisify(execFile);

/** The affinity mask of `pid` as `taskset -p` prints it (hex), or undefined when it cannot be read. */
export async function affinity(pid: number): Promise<string | undefined> {
  try {
    const { stdout } = await run('taskset', ['-p', String(pid)]);
    return /:\s*([0-9a-f]+)\s*$/i.exec(stdout.trim())?.[1];
  } catch {
    return undefined;
  }
}

/** Pins every thread of `pid` (`taskset -a`) to the CPUs of `cpus` (a list such as `0` or `1-3`). */
async function pinTo(pid: number, cpus: string): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', cpus, String(pid)]);
}

async function restoreMask(pid: number, mask: string): Promise<void> {
  await run('taskset', ['-a', '-p', mask, String(pid)]).catch(() => undefined);
}

/** The process ids of the children of `pid` (e.g. a postmaster's backends). */
async function children(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The PostgreSQL postmaster's process id on this machine: the parent of the backend serving a connection (read from
 * `/proc`), or undefined when the server is not local or not readable.
 */
export async function postmasterPid(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = await readFile(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces, in parentheses): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The process id of the Redis server at `redisUrl` (`INFO server`), or undefined when unknown or not local. */
export async function redisPid(redisUrl: string): Promise<number | undefined> {
  if (!isLoopback(redisUrl)) return undefined;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  try {
    await redis.connect();
    const pid = Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1]);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/**
 * The process id of this machine's RabbitMQ node (the Erlang VM, `beam.smp`, started for RabbitMQ) when the broker at
 * `amqpUrl` is local, or undefined.
 */
export async function brokerPid(amqpUrl: string): Promise<number | undefined> {
  if (!isLoopback(amqpUrl)) return undefined;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() !== 'beam.smp') continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('rabbit')) return Number(entry);
  }
  return undefined;
}

/** Whether `url` names this machine by a loopback host (127.0.0.1, localhost, [::1]). */
export function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Affinities changed by {@link Pinning}, restored by `release`. */
export class Pinning {
  readonly #saved = new Map<number, string>();
  /** What was pinned, for the report. */
  readonly notes: string[] = [];

  /** Whether `taskset` works here and the machine has at least two CPUs. */
  static async available(cpuCount: number): Promise<boolean> {
    return cpuCount >= 2 && (await affinity(process.pid)) !== undefined;
  }

  readonly #parents: { pid: number; mask: string | undefined }[] = [];

  /**
   * Pins `pid` (and its children) to `cpus`, remembering its affinity first. Processes it forks from now on inherit
   * the pinning (a postmaster's new backends): `release` puts those still alive back too.
   */
  async pin(pid: number, cpus: string, what: string): Promise<void> {
    this.#parents.push({ pid, mask: undefined });
    for (const p of [pid, ...(await children(pid))]) {
      const mask = await affinity(p);
      if (mask === undefined) continue;
      if (!this.#saved.has(p)) this.#saved.set(p, mask);
      await pinTo(p, cpus);
    }
    this.#parents[this.#parents.length - 1]!.mask = await affinity(pid);
    this.notes.push(`${what} (pid ${pid}) on CPU ${cpus}`);
  }

  /** Puts every affinity changed back as it was. */
  async release(): Promise<void> {
    for (const { pid, mask: pinned } of this.#parents) {
      const original = this.#saved.get(pid);
      if (original === undefined || pinned === undefined) continue;
      for (const child of await children(pid)) {
        if (!this.#saved.has(child) && (await affinity(child)) === pinned) await restoreMask(child, original);
      }
    }
    for (const [pid, mask] of this.#saved) await restoreMask(pid, mask);
    this.#saved.clear();
    this.#parents.length = 0;
  }
}
