import { loadConfig } from '../config.js';
import { openRepository, type SqlRepository } from '../data/index.js';
import { usageExportCommand } from './export-command.js';

// `npm run usage-export -w @ballast/retailflow -- --period 2026-12`: reads the store RetailFlow is configured with
// (DATABASE_URL, or SQLITE_PATH) and prints the period's usage as a CloudEvents JSON batch on stdout.
const config = loadConfig();
const repo = await openRepository({
  ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  sqlitePath: config.sqlitePath,
});
try {
  const events = await usageExportCommand(process.argv.slice(2), (repo as SqlRepository).driver);
  process.stdout.write(`${JSON.stringify(events, null, 2)}\n`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
} finally {
  await repo.close();
}
