import { loadConfig } from '../config.js';
import { openRepository } from './open.js';
import { rebuildCommand } from './rebuild-command.js';

// `npm run rebuild-projections -w @ballast/retailflow [-- --check]`: rebuilds the order projections of the store
// RetailFlow is configured with (DATABASE_URL, or SQLITE_PATH) from the order events and prints what it did as JSON.
const config = loadConfig();
const repo = await openRepository({
  ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  sqlitePath: config.sqlitePath,
});
try {
  const { report, exitCode } = await rebuildCommand(process.argv.slice(2), repo);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = exitCode;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
} finally {
  await repo.close();
}
