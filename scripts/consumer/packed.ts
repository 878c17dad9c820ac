import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishedPackages, repoRoot } from './built.js';

/**
 * A throwaway app outside the repository with the published packages installed from their packed tarballs (what
 * `npm publish` would upload), extracted into its `node_modules/@ballast/`. Third-party dependencies are symlinked
 * from the repository's `node_modules` (and each package's own nested `node_modules`), so no network is needed.
 * Returns the app's directory.
 */
export function installPackedApp(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const tarballs = join(root, 'tarballs');
  const app = join(root, 'app');
  const modules = join(app, 'node_modules');
  mkdirSync(tarballs);
  mkdirSync(join(modules, '@ballast'), { recursive: true });

  for (const name of publishedPackages) {
    const pkgDir = join(repoRoot, 'packages', name);
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tarballs], {
      cwd: pkgDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // `--json` prints an array; anything a lifecycle script (prepack) printed comes before it.
    const [{ filename }] = JSON.parse(out.slice(out.search(/^\[/m))) as [{ filename: string }];
    const target = join(modules, '@ballast', name);
    mkdirSync(target);
    execFileSync('tar', ['-xzf', join(tarballs, filename), '-C', target, '--strip-components=1']);
    // A dependency npm nested under the package (another version than the root's) goes where npm would put it.
    const nested = join(pkgDir, 'node_modules');
    if (existsSync(nested)) linkEntries(nested, join(target, 'node_modules'));
  }
  linkEntries(join(repoRoot, 'node_modules'), modules, ['@ballast', '.bin']);
  return app;
}

/** Symlinks every package in `from` (a node_modules directory) into `to`, scoped packages one by one. */
function linkEntries(from: string, to: string, skip: readonly string[] = []): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (skip.includes(entry.name) || entry.name.startsWith('.')) continue;
    const source = join(from, entry.name);
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      linkEntries(source, join(to, entry.name));
    } else if (!existsSync(join(to, entry.name))) {
      symlinkSync(source, join(to, entry.name), 'dir');
    }
  }
}
