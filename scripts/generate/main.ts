import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCatalog } from './catalog-source.js';
import { GENERATED_DIRS, REPOSITORY_ROOT, generateFiles, recordedSeries } from './generate.js';
import { lintDashboard } from './grafana/lint.js';

/**
 * `npm run generate`: writes every generated file and removes files in the generated directories that the
 * generators no longer produce. Prints one line per file written or removed.
 */
const root = REPOSITORY_ROOT;
const files = generateFiles(root);

// Never write a dashboard that breaks the dashboard rules.
const context = { catalog: loadCatalog(), recorded: recordedSeries(files) };
const problems = [...files]
  .filter(([path]) => path.startsWith('dashboards/'))
  .flatMap(([, content]) => lintDashboard(JSON.parse(content), context));
if (problems.length > 0) {
  console.error(`generate: the dashboards break the dashboard rules:\n${problems.join('\n')}`);
  process.exit(1);
}
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
// Remove what the generators no longer write (files, then directories left empty), depth first.
function prune(dir: string): void {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(join(root, path)).length === 0) rmdirSync(join(root, path));
    } else if (!files.has(path)) {
      rmSync(join(root, path));
      changed++;
      console.log(`removed ${path}`);
    }
  }
}
for (const dir of GENERATED_DIRS) {
  mkdirSync(join(root, dir), { recursive: true });
  prune(dir);
}
console.log(`generate: ${files.size} files, ${changed} changed`);
