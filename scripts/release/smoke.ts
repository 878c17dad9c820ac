/**
 * The release smoke test: what a service team meets when it installs a Ballast package from a registry.
 *
 * 1. Packs the five publishable packages (`npm pack`, so `prepack` builds them and writes the published manifest)
 *    and checks each tarball: nothing private in it (no `.tsbuildinfo`, no `@ballast/source` condition), the
 *    LICENSE, then `publint --strict` and `attw` (are the types wrong).
 * 2. Starts a throwaway Verdaccio on 127.0.0.1 (generated config, storage in a temporary folder; third-party
 *    packages come through its uplink to the npm registry) and publishes the four tarballs to it.
 * 3. Installs **each package alone** into a fresh app (`npm install @ballast/<pkg> --registry <local>`), measures
 *    the install footprint (packages, MB of `node_modules`), and runs a smoke program twice, as an ES module and as
 *    CommonJS (`require()`), asserting its output; telemetry once more with the tracing SDK installed next to it.
 *
 * Prints a table and, as its last line, one JSON object with the footprints. Exits 1 on any problem.
 *
 * Run: `npx tsx scripts/release/smoke.ts` (`--keep` leaves the temporary folder, `--skip-checks` skips publint and
 * attw).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SOURCE_CONDITION } from './manifest.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = join(ROOT, 'node_modules', '.bin');
const PACKAGES = ['core', 'resilience', 'slo', 'telemetry', 'ops'] as const;
type Pkg = (typeof PACKAGES)[number];

const args = new Set(process.argv.slice(2));
const started = Date.now();
const log = (message: string): void => {
  process.stderr.write(`[smoke ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
};

/** Runs a command; on failure throws with its output, so CI shows why. */
async function sh(file: string, argv: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    return await run(file, argv, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      maxBuffer: 64 * 1024 * 1024,
      timeout: 300_000,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${argv.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

// ----- smoke programs: the same body runs as an ES module and as CommonJS; `m` is the package's namespace --------

const PROGRAMS: Record<Pkg | 'tracing', { specifier: string; body: string; expect: unknown }> = {
  core: {
    specifier: '@ballast/core',
    body: `
      const clock = new m.ManualClock(1000);
      const fired = [];
      clock.setTimeout(() => fired.push(clock.now()), 50);
      clock.advance(100);
      let message = '';
      try { m.checkNumber('timeoutMs', -1, 10, { min: 0 }); } catch (e) { message = e.message; }
      return { fired, message };`,
    expect: { fired: [1050], message: 'Expected `timeoutMs` to be a finite number >= 0, got `-1` (number)' },
  },
  resilience: {
    specifier: '@ballast/resilience',
    body: `
      const breaker = new m.CircuitBreakerPolicy({ name: 'smoke', breaker: new m.ConsecutiveBreaker({ threshold: 1 }) });
      const events = [];
      breaker.onEvent((e) => events.push(e.type));
      const first = await breaker.execute(async () => 42);
      let rejected = false;
      await breaker.execute(async () => { throw new Error('down'); }).catch(() => {});
      await breaker.execute(async () => 1).catch((e) => { rejected = m.isBrokenCircuitError(e); });
      const bulkhead = new m.BulkheadPolicy({ name: 'b', limit: 2 });
      const both = await Promise.all([bulkhead.execute(async () => 'a'), bulkhead.execute(async () => 'b')]);
      return { first, rejected, events, both };`,
    expect: {
      first: 42,
      rejected: true,
      events: ['success', 'failure', 'state-change', 'rejected'],
      both: ['a', 'b'],
    },
  },
  slo: {
    specifier: '@ballast/slo',
    body: `
      const slo = m.defineSlo({
        service: 'checkout', name: 'checkout-availability', objective: 0.999, window: '30d',
        indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
      });
      return { name: slo.name, conditions: slo.alerting.conditions.length, fiveMinutes: m.parseDuration('5m') };`,
    expect: { name: 'checkout-availability', conditions: 4, fiveMinutes: 300000 },
  },
  telemetry: {
    specifier: '@ballast/telemetry',
    body: `
      const metrics = m.createMetricsRegistry();
      const listeners = [];
      const policy = { name: 'smoke', kind: 'retry', onEvent: (l) => { listeners.push(l); return { dispose() {} }; } };
      m.observePolicy(metrics, policy);
      for (const l of listeners) l({ type: 'retry', policy: 'smoke', kind: 'retry', attempt: 1, delayMs: 5, error: null });
      const text = await m.renderMetrics(metrics, 'prometheus');
      let tracing = 'loaded';
      try { await import('@ballast/telemetry/tracing'); } catch (e) { tracing = e.code; }
      return {
        retries: /ballast_retry_attempts_total\\{policy="smoke"\\} 1/.test(text),
        startTelemetryInMain: 'startTelemetry' in m,
        tracing,
      };`,
    // Metrics-only: the tracing SDK is an optional peer, not installed, so the tracing subpath cannot load.
    expect: { retries: true, startTelemetryInMain: false, tracing: 'ERR_MODULE_NOT_FOUND' },
  },
  ops: {
    specifier: '@ballast/ops',
    // `ballast-ops generate` in-process on a one-SLO OpenSLO file, into a temporary folder.
    body: `
      const { mkdtempSync, writeFileSync, readdirSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const dir = mkdtempSync(join(tmpdir(), 'ballast-ops-smoke-'));
      const q = (filter) => ({ metricSource: { type: 'Prometheus', spec: { query: 'http_requests_total{job="shop"' + filter + '}' } } });
      const slo = {
        apiVersion: 'openslo/v1', kind: 'SLO', metadata: { name: 'shop-availability' },
        spec: {
          service: 'shop', budgetingMethod: 'Occurrences', objectives: [{ target: 0.995 }],
          timeWindow: [{ duration: '28d', isRolling: true }],
          indicator: { metadata: { name: 'shop-requests' }, spec: { ratioMetric: { counter: true, good: q(',code!~"5.."'), total: q('') } } },
        },
      };
      writeFileSync(join(dir, 'slos.yaml'), JSON.stringify(slo));
      let stderr = '';
      const io = { stdout: () => {}, stderr: (t) => { stderr += t; }, cwd: dir };
      const code = await m.runOpsCli(['generate', '--slos', 'slos.yaml', '--out', 'out'], io);
      const written = readdirSync(join(dir, 'out')).sort();
      const dashboards = readdirSync(join(dir, 'out', 'dashboards')).length > 0;
      rmSync(dir, { recursive: true, force: true });
      return { code, stderr, written, dashboards };`,
    expect: {
      code: 0,
      stderr: '',
      written: ['dashboards', 'kubernetes', 'prometheus', 'runbooks'],
      dashboards: true,
    },
  },
  tracing: {
    specifier: '@ballast/telemetry/tracing',
    body: `
      const telemetry = m.startTelemetry({ serviceName: 'smoke', handleSignals: false });
      const enabled = telemetry.enabled;
      await telemetry.shutdown();
      return { enabled, exports: Object.keys(m) };`,
    expect: { enabled: true, exports: ['startTelemetry'] },
  },
};

function program(kind: 'esm' | 'cjs', specifier: string, body: string): string {
  const load = kind === 'esm' ? `import * as m from '${specifier}';` : `const m = require('${specifier}');`;
  return `${load}
(async () => {${body}
})().then((result) => console.log(JSON.stringify(result)), (error) => { console.error(error); process.exitCode = 1; });
`;
}

// ----- footprint ------------------------------------------------------------------------------------------------

interface Footprint {
  readonly packages: number;
  readonly bytes: number;
}

function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function footprint(app: string): Footprint {
  const lock = JSON.parse(readFileSync(join(app, 'node_modules', '.package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  return {
    packages: Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/')).length,
    bytes: sizeOf(join(app, 'node_modules')),
  };
}

// ----- Verdaccio ------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function startRegistry(dir: string): Promise<{ url: string; npmrc: string; child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const upstream =
    (await sh('npm', ['config', 'get', 'registry'])).stdout.trim() || 'https://registry.npmjs.org/';
  const config = join(dir, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks:',
      '  npmjs:',
      `    url: ${upstream}`,
      '    timeout: 60s',
      'packages:',
      "  '@ballast/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    proxy: npmjs',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  );
  const child = spawn(join(BIN, 'verdaccio'), ['--config', config, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Verdaccio exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/-/ping`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i >= 300) throw new Error(`Verdaccio did not answer on ${url} within 30 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const user = await fetch(`${url}/-/user/org.couchdb.user:smoke`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'smoke', password: 'smoke-password', email: 'smoke@example.invalid' }),
  });
  const { token } = (await user.json()) as { token?: string };
  check(typeof token === 'string', `Verdaccio refused to create the publishing user (${user.status})`);
  const npmrc = join(dir, 'npmrc');
  writeFileSync(npmrc, `registry=${url}/\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  return { url, npmrc, child };
}

// ----- main -----------------------------------------------------------------------------------------------------

interface Row {
  readonly name: string;
  readonly footprint: Footprint;
  readonly esm: boolean;
  readonly cjs: boolean;
}

async function installAndRun(
  dir: string,
  npmEnv: NodeJS.ProcessEnv,
  name: string,
  install: string[],
  smoke: (typeof PROGRAMS)[Pkg],
): Promise<Row> {
  const app = join(dir, 'apps', name);
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: `smoke-${name}`, version: '1.0.0', private: true }),
  );
  await sh('npm', ['install', ...install, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: app,
    env: npmEnv,
  });
  const result = { esm: false, cjs: false };
  for (const kind of ['esm', 'cjs'] as const) {
    const file = join(app, kind === 'esm' ? 'smoke.mjs' : 'smoke.cjs');
    writeFileSync(file, program(kind, smoke.specifier, smoke.body));
    const { stdout } = await sh(process.execPath, [file], { cwd: app });
    const got = stdout.trim().split('\n').at(-1) ?? '';
    check(
      got === JSON.stringify(smoke.expect),
      `${name} (${kind}): expected ${JSON.stringify(smoke.expect)}, got ${got}`,
    );
    result[kind] = true;
  }
  if (name === 'ops') {
    const { stdout } = await sh('npx', ['--no-install', 'ballast-ops', '--help'], { cwd: app, env: npmEnv });
    check(stdout.includes('Usage: ballast-ops'), `ballast-ops --help printed:\n${stdout}`);
  }
  if (name === 'slo') {
    const { stdout } = await sh('npx', ['--no-install', 'ballast-slo', '--help'], { cwd: app, env: npmEnv });
    check(stdout.includes('Usage: ballast-slo'), `ballast-slo --help printed:\n${stdout}`);
  }
  return { name, footprint: footprint(app), ...result };
}

async function checkTarball(tarball: string, pkg: Pkg): Promise<void> {
  const files = (await sh('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
  check(!files.some((f) => f.includes('tsbuildinfo')), `${pkg}: the tarball ships a .tsbuildinfo`);
  check(files.includes('package/LICENSE'), `${pkg}: the tarball has no LICENSE`);
  const manifest = (await sh('tar', ['-xzOf', tarball, 'package/package.json'])).stdout;
  check(
    !manifest.includes(`"${SOURCE_CONDITION}"`),
    `${pkg}: the published package.json names ${SOURCE_CONDITION}`,
  );
  check(
    readFileSync(join(ROOT, 'LICENSE'), 'utf8') ===
      (await sh('tar', ['-xzOf', tarball, 'package/LICENSE'])).stdout,
    `${pkg}: LICENSE differs from the repository's`,
  );
  if (args.has('--skip-checks')) return;
  const lint = await sh(join(BIN, 'publint'), ['run', tarball, '--strict', '--level', 'suggestion']);
  check(lint.stdout.includes('All good!'), `${pkg}: publint reported:\n${lint.stdout}`);
  // ES modules loaded from CommonJS with require() (Node 20.19+, 22.12+) are beyond the TypeScript that attw
  // bundles, so the CommonJS resolution is checked by running require() below, not by attw (profile esm-only).
  // attw exits 1 on any problem the profile does not ignore; sh() throws with its report.
  await sh(join(BIN, 'attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-color']);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-release-'));
  let registry: Awaited<ReturnType<typeof startRegistry>> | undefined;
  try {
    log(`packing into ${dir}`);
    const tarballs = new Map<Pkg, string>();
    mkdirSync(join(dir, 'tarballs'));
    for (const pkg of PACKAGES) {
      const { stdout } = await sh('npm', [
        'pack',
        '-w',
        `@ballast/${pkg}`,
        '--pack-destination',
        join(dir, 'tarballs'),
        '--json',
        '--loglevel=error',
      ]);
      const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
      tarballs.set(pkg, join(dir, 'tarballs', info!.filename));
    }
    const packed = Date.now();
    log('checking tarballs (contents, publint, attw)');
    for (const [pkg, tarball] of tarballs) await checkTarball(tarball, pkg);
    const checked = Date.now();

    registry = await startRegistry(dir);
    log(`Verdaccio on ${registry.url}`);
    const npmEnv = {
      ...process.env,
      npm_config_userconfig: registry.npmrc,
      npm_config_registry: `${registry.url}/`,
    };
    for (const tarball of tarballs.values()) {
      await sh('npm', ['publish', tarball, '--provenance=false', '--loglevel=error'], {
        cwd: dir,
        env: npmEnv,
      });
    }
    log('published; installing each package alone');

    const rows: Row[] = [];
    for (const pkg of PACKAGES) {
      rows.push(await installAndRun(dir, npmEnv, pkg, [`@ballast/${pkg}`], PROGRAMS[pkg]));
      log(`${pkg}: ok`);
    }
    // Tracing: the optional peers at the versions the repository tests (telemetry's devDependencies), as the
    // telemetry README says to install them.
    const telemetry = JSON.parse(readFileSync(join(ROOT, 'packages/telemetry/package.json'), 'utf8')) as {
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      devDependencies: Record<string, string>;
    };
    const peers = Object.keys(telemetry.peerDependenciesMeta).map(
      (name) => `${name}@${telemetry.devDependencies[name]}`,
    );
    rows.push(
      await installAndRun(
        dir,
        npmEnv,
        'telemetry+tracing',
        ['@ballast/telemetry', ...peers],
        PROGRAMS.tracing,
      ),
    );
    log('telemetry+tracing: ok');
    const installed = Date.now();

    const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
    console.log('| install | packages | MB installed | ESM | CommonJS |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const r of rows) {
      const label =
        r.name === 'telemetry+tracing' ? '@ballast/telemetry + tracing SDK' : `@ballast/${r.name}`;
      console.log(`| ${label} | ${r.footprint.packages} | ${mb(r.footprint.bytes)} | ok | ok |`);
    }
    console.log(
      JSON.stringify({
        bench: 'release-smoke',
        node: process.version,
        footprints: Object.fromEntries(
          rows.map((r) => [r.name, { packages: r.footprint.packages, mb: Number(mb(r.footprint.bytes)) }]),
        ),
        seconds: {
          pack: (packed - started) / 1000,
          checks: (checked - packed) / 1000,
          publishAndInstall: (installed - checked) / 1000,
          total: (Date.now() - started) / 1000,
        },
      }),
    );
  } finally {
    registry?.child.kill();
    if (args.has('--keep')) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
