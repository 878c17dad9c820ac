import { loadCatalog } from './catalog-source.js';
import { GENERATED_DIRS, REPOSITORY_ROOT, generateFiles, recordedSeries } from './generate.js';
import { lintDashboard } from './grafana/lint.js';
import { writeGenerated } from './write.js';

/**
 * `npm run generate`: writes every generated file and removes files in the generated directories that the
 * generators no longer produce. Prints one line per file written or removed.
 */
const files = generateFiles(REPOSITORY_ROOT);

// Never write a dashboard that breaks the dashboard rules.
const context = { catalog: loadCatalog(), recorded: recordedSeries(files) };
const problems = [...files]
  .filter(([path]) => path.startsWith('dashboards/'))
  .flatMap(([, content]) => lintDashboard(JSON.parse(content), context));
if (problems.length > 0) {
  console.error(`generate: the dashboards break the dashboard rules:\n${problems.join('\n')}`);
  process.exit(1);
}

const { created, updated, removed } = writeGenerated(REPOSITORY_ROOT, files, GENERATED_DIRS);
for (const path of created) console.log(`created ${path}`);
for (const path of updated) console.log(`updated ${path}`);
for (const path of removed) console.log(`removed ${path}`);
console.log(`generate: ${files.size} files, ${created.length + updated.length + removed.length} changed`);
