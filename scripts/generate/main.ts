import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIRS, generateFiles } from './generate.js';

/**
 * `npm run generate`: writes every generated file and removes files in the generated directories that the
 * generators no longer produce. Prints one line per file written or removed.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const files = generateFiles();
let changed = 0;
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
  changed++;
  console.log(`${old === undefined ? 'created' : 'updated'} ${path}`);
}
for (const dir of GENERATED_DIRS) {
  mkdirSync(join(root, dir), { recursive: true });
  for (const name of readdirSync(join(root, dir))) {
    const path = `${dir}/${name}`;
    if (!files.has(path)) {
      rmSync(join(root, path), { recursive: true });
      changed++;
      console.log(`removed ${path}`);
    }
  }
}
console.log(`generate: ${files.size} files, ${changed} changed`);
