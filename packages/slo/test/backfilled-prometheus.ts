import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promtool } from './rules-tools.js';

/** A real Prometheus serving history written in advance, so a test never waits for a scrape. */
export interface BackfilledPrometheus {
  readonly url: string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** A free TCP port on loopback (also for a server that must not answer). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Backfills `openMetrics` (OpenMetrics text with timestamps, ending in `# EOF`) into `dir/data` with
 * `promtool tsdb create-blocks-from openmetrics`, then starts Debian's `prometheus` on that storage on a free loopback
 * port and waits until it is ready. The history must lie outside the head block (older than about an hour).
 */
export async function startBackfilledPrometheus(
  dir: string,
  openMetrics: string,
): Promise<BackfilledPrometheus> {
  writeFileSync(join(dir, 'history.om'), openMetrics);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  evaluation_interval: 15s\n');
  const backfill = await promtool(['tsdb', 'create-blocks-from', 'openmetrics', 'history.om', 'data'], dir);
  if (backfill.code !== 0) throw new Error(`promtool backfill failed:\n${backfill.output}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=30d',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-10_000)));
  const deadline = performance.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`prometheus not ready at ${url}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
