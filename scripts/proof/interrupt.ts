// What an interrupted proof leaves behind. A proof run starts RetailFlow instances, payment simulators, HAProxy,
// Prometheus, PostgreSQL clusters and a RabbitMQ node of its own for its outages, and pins PostgreSQL to a core.
// Ctrl-C in a terminal signals the whole process group (and the runner in front of the proof passes it on again),
// while a signal sent to the proof's process alone (a CI runner's timeout, `kill <pid>`) reaches no child, and no
// `finally` block runs: the fleet stays up, and an outage can outlive the run. `handleInterrupts` puts the machine
// back instead: the sections' own clean-ups first (nodes stopped, affinities restored, clusters dropped), then every
// process the run started.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** A clean-up a section registers while it holds something it must give back. */
type Cleanup = () => Promise<void>;

const cleanups = new Map<number, { what: string; run: Cleanup }>();
let nextId = 0;

/**
 * Registers `run` (named `what` in the log) to run if the proof is interrupted while it is registered; returns the
 * function that unregisters it (call it in the `finally` that does the same clean-up on the normal path).
 *
 * @example
 * ```ts
 * const forget = onInterrupt('restart RabbitMQ', () => services.startRabbit());
 * try { await services.stopRabbit(); ... } finally { forget(); await services.startRabbit(); }
 * ```
 */
export function onInterrupt(what: string, run: Cleanup): () => void {
  const id = nextId++;
  cleanups.set(id, { what, run });
  return () => {
    cleanups.delete(id);
  };
}

/** The parent process id of `pid` from `/proc/<pid>/stat`, or undefined once it has gone. */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // Fields after the command (which may hold spaces and parentheses, hence the last `)`): state, ppid, ...
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/**
 * Every live descendant of `root` (children, their children, ...), read from `/proc`, deepest last. Processes that
 * detached themselves (a daemonized PostgreSQL, reparented to init) are not among them: their sections drop them.
 */
export async function descendants(root: number): Promise<number[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = await parentOf(Number(entry));
    if (ppid !== undefined) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  let generation = [root];
  while (generation.length > 0) {
    const next: number[] = [];
    for (const [pid, ppid] of parents) if (generation.includes(ppid)) next.push(pid);
    found.push(...next);
    generation = next;
  }
  return found;
}

/** Whether `pid` still runs: a zombie (dead, not yet reaped by its parent or by init) does not. */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Stops every descendant of this process: SIGTERM (RetailFlow drains, HAProxy and Prometheus exit), then SIGKILL
 * for those still running after `graceMs`. Answers how many were signalled.
 */
export async function stopDescendants(graceMs = 5000): Promise<number> {
  const pids = await descendants(process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  }
  const deadline = performance.now() + graceMs;
  while (pids.some(running) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(running)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone between the check and the kill
    }
  }
  return pids.length;
}

const EXIT_CODES: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * Installs the proof's handlers for SIGINT, SIGTERM and SIGHUP: on the first, the registered clean-ups run (each
 * given `cleanupMs`; the newest first, as `finally` blocks would unwind), then every process the run started is
 * stopped, and the proof exits with 128 + the signal's number. A second signal exits at once, unless it came within
 * `echoMs` of the first: Ctrl-C signals the terminal's whole process group, and the runner in front of the proof
 * (`npm run`, tsx) passes the same signal on, so one keypress arrives twice within milliseconds; the echo is ignored
 * (counted as a second, it skipped every clean-up).
 */
export function handleInterrupts(log: (line: string) => void, cleanupMs = 120_000, echoMs = 1000): void {
  let interruptedAt: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (interruptedAt !== undefined) {
      if (performance.now() - interruptedAt < echoMs) return;
      log(`${signal} again: exiting without cleaning up`);
      process.exit(EXIT_CODES[signal] ?? 1);
    }
    interruptedAt = performance.now();
    log(`${signal}: putting the machine back before exiting`);
    // The run goes on meanwhile, and its sections fail as the processes they talk to stop (a group's Ctrl-C stops
    // them at once): their errors must not end the process before the clean-ups have.
    process.on('uncaughtException', (error) => log(`  (a section failed while interrupted: ${String(error).split('\n')[0]})`));
    void (async () => {
      for (const { what, run } of [...cleanups.values()].reverse()) {
        log(`  ${what}`);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          run().catch((error: unknown) => log(`  ${what}: failed (${String(error)})`)),
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              log(`  ${what}: still running after ${cleanupMs} ms; going on`);
              resolve();
            }, cleanupMs);
          }),
        ]);
        clearTimeout(timer);
      }
      cleanups.clear();
      const stopped = await stopDescendants();
      log(`  stopped ${stopped} process(es) the run had started`);
      process.exit(EXIT_CODES[signal] ?? 1);
    })();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, handler);
}
