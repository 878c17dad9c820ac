import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What {@link writeGenerated} did, path by path (relative to the root). */
export interface WriteResult {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly removed: readonly string[];
}

/**
 * Writes `files` (path relative to `root` → content) under `root`, leaving files whose content is unchanged
 * untouched, and removes every other file under `dirs` (the directories the generators own), then directories
 * left empty.
 */
export function writeGenerated(
  root: string,
  files: ReadonlyMap<string, string>,
  dirs: readonly string[],
): WriteResult {
  const created: string[] = [];
  const updated: string[] = [];
  const removed: string[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    let old: string | undefined;
    try {
      old = readFileSync(full, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === content) continue;
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    (old === undefined ? created : updated).push(path);
  }
  const prune = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        prune(path);
        if (readdirSync(join(root, path)).length === 0) rmdirSync(join(root, path));
      } else if (!files.has(path)) {
        rmSync(join(root, path));
        removed.push(path);
      }
    }
  };
  for (const dir of dirs) {
    mkdirSync(join(root, dir), { recursive: true });
    prune(dir);
  }
  return { created, updated, removed };
}

/** The paths {@link writeGenerated} would create, change or remove (nothing is written). */
export function diffGenerated(
  root: string,
  files: ReadonlyMap<string, string>,
  dirs: readonly string[],
): string[] {
  const out: string[] = [];
  for (const [path, content] of files) {
    let old: string | undefined;
    try {
      old = readFileSync(join(root, path), 'utf8');
    } catch {
      old = undefined;
    }
    if (old !== content) out.push(path);
  }
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (!files.has(path)) out.push(path);
    }
  };
  for (const dir of dirs) walk(dir);
  return out.sort();
}
