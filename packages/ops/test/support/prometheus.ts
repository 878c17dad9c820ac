import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * A real Prometheus server (the `prometheus` binary of Debian's package) for integration tests: its own config,
 * its own TSDB under a temp directory, a free loopback port. `stop()` always kills it; a process exit handler
 * kills it too when a test dies before `stop()`.
 */

/** One instant-query answer of the HTTP API. */
export interface QueryResult {
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  readonly result: readonly { readonly metric: Record<string, string>; readonly value?: [number, string] }[];
}

/** A running Prometheus. */
export interface PrometheusServer {
  readonly url: string;
  /** Evaluates `expr` (instant query); throws with Prometheus's own error text when it does not parse or fails. */
  query(expr: string): Promise<QueryResult>;
  /** Values of `label` on series matching `selector` (what a Grafana `label_values(selector, label)` returns). */
  labelValues(selector: string, label: string): Promise<string[]>;
  /** Health of every scrape target. */
  targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]>;
  /** Rule groups as loaded, with each rule's health and last error. */
  rules(): Promise<
    { name: string; rules: { name: string; type: string; health: string; lastError?: string }[] }[]
  >;
  /** Kills the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** True when the `prometheus` binary is on PATH. */
export function prometheusInstalled(): boolean {
  return !spawnSync('prometheus', ['--version'], { encoding: 'utf8' }).error;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Options of {@link startPrometheus}. */
export interface PrometheusOptions {
  /** A directory the server may own (config, TSDB). */
  readonly dir: string;
  /** `host:port` to scrape at `/metrics`. */
  readonly target: string;
  /** Scrape job name. */
  readonly job: string;
  /** Rule files (absolute paths) to load. */
  readonly ruleFiles: readonly string[];
  /** Scrape and rule evaluation interval. @default '1s' */
  readonly interval?: string;
  /** Bearer token the scrape sends (RetailFlow's ops token). @default none */
  readonly bearerToken?: string;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts Prometheus and waits until it is ready (or throws with its log). */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const interval = options.interval ?? '1s';
  const port = await freePort();
  mkdirSync(join(options.dir, 'data'), { recursive: true });
  const config = join(options.dir, 'prometheus.yml');
  writeFileSync(
    config,
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: [...options.ruleFiles],
      scrape_configs: [
        {
          job_name: options.job,
          static_configs: [{ targets: [options.target] }],
          ...(options.bearerToken === undefined
            ? {}
            : { authorization: { type: 'Bearer', credentials: options.bearerToken } }),
        },
      ],
    }),
  );
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    children.delete(child);
  };

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.errorType}: ${body.error}`);
    return body.data;
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus was not ready within 20 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    query: (expr) => api<QueryResult>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    labelValues: (selector, label) =>
      api<string[]>(
        `/api/v1/label/${encodeURIComponent(label)}/values?match[]=${encodeURIComponent(selector)}`,
      ),
    targets: async () =>
      (
        await api<{ activeTargets: { health: string; lastError: string; scrapeUrl: string }[] }>(
          '/api/v1/targets',
        )
      ).activeTargets,
    rules: async () =>
      (
        await api<{
          groups: {
            name: string;
            rules: { name: string; type: string; health: string; lastError?: string }[];
          }[];
        }>('/api/v1/rules')
      ).groups,
    stop,
  };
}
