/**
 * The publishable packages' `prepack`, `postpack` and `postpublish` step (`tsx ../../scripts/release/pack-manifest.ts
 * <step>`, run by npm in the package's folder).
 *
 * - `prepack` builds the package (`tsc -b`, incremental), removes from `dist/` every output whose source file is
 *   gone (so no module deleted or renamed in `src/` ships), and writes the manifest users get: the `@ballast/source` export condition, which points the repository's
 *   tests and scripts at `src/*.ts`, is removed from `exports`. The manifest as committed is kept beside it in
 *   `.package.json.committed` (never packed: `files` does not list it).
 * - `postpack` puts the committed manifest back, except under `npm publish`, which reads the manifest again after
 *   packing to send it to the registry: there `postpublish` puts it back, so the registry's metadata matches the
 *   tarball.
 *
 * A `prepack` that finds a saved manifest (a pack or publish that stopped half-way) restores it first.
 * See docs/decisions/source-condition-at-pack.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { publishedManifest, sourceOf } from './manifest.js';

const SAVED = '.package.json.committed';

/** Files under `dist` (`x.js`, `x.d.ts` and their maps) whose `src/x.ts` no longer exists. */
function staleOutputs(dist: string, src: string): string[] {
  if (!existsSync(dist)) return [];
  const stale: string[] = [];
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const source = sourceOf(relative(dist, join(entry.parentPath, entry.name)));
    if (source !== undefined && !existsSync(join(src, source)))
      stale.push(join(entry.parentPath, entry.name));
  }
  return stale;
}

function restore(dir: string): boolean {
  const saved = join(dir, SAVED);
  if (!existsSync(saved)) return false;
  renameSync(saved, join(dir, 'package.json'));
  return true;
}

function prepack(dir: string): void {
  if (restore(dir))
    console.error(`pack-manifest: restored package.json from ${SAVED} (an earlier pack stopped)`);
  const tsc = createRequire(join(dir, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  for (const output of staleOutputs(join(dir, 'dist'), join(dir, 'src'))) rmSync(output);
  const committed = readFileSync(join(dir, 'package.json'), 'utf8');
  writeFileSync(join(dir, SAVED), committed);
  writeFileSync(join(dir, 'package.json'), publishedManifest(committed));
}

function main(step: string | undefined, dir: string): void {
  switch (step) {
    case 'prepack':
      prepack(dir);
      return;
    case 'postpack':
      // `npm publish` re-reads package.json after packing and sends it to the registry: keep the published one
      // until `postpublish`.
      if (process.env.npm_command !== 'publish') restore(dir);
      return;
    case 'postpublish':
      restore(dir);
      return;
    default:
      throw new Error(`Expected the step to be prepack, postpack or postpublish, got \`${String(step)}\``);
  }
}

main(process.argv[2], process.cwd());
