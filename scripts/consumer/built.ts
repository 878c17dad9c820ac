import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The packages a team outside this repository installs. */
export const publishedPackages = ['core', 'resilience', 'slo', 'telemetry'] as const;

/** Source files under `dir` whose compiled `.js` in `dist` is missing or older than the source. */
function staleFiles(pkgDir: string): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.ts$/.test(entry.name) && !/\.(d|test)\.ts$/.test(entry.name)) {
        const out = join(pkgDir, 'dist', relative(join(pkgDir, 'src'), path)).replace(/\.ts$/, '.js');
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) stale.push(path);
      }
    }
  };
  walk(join(pkgDir, 'src'));
  return stale;
}

/**
 * Makes sure every published package's `dist` is built from the current sources. `npm install` builds them (the
 * root `prepare` script) and `npm test` type-checks with `tsc -b` before running vitest, so this is normally a
 * check; it rebuilds only when a source file is newer than its output (a test run right after editing `src/`).
 * Concurrent callers (two test files) serialise on a lock directory so that two builds never write `dist` at once.
 */
export function ensureBuilt(): void {
  const isStale = () => publishedPackages.some((p) => staleFiles(join(repoRoot, 'packages', p)).length > 0);
  if (!isStale()) return;
  const lock = join(repoRoot, 'node_modules', '.ballast-consumer-build.lock');
  for (let waited = 0; ; waited++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (waited > 600) throw new Error(`another build holds ${lock}; remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (isStale()) {
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'pipe' });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The environment for a child `node` that must see the packages as a user would: no extra conditions or loaders. */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.BALLAST_CHAOS;
  for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key];
  return env;
}
