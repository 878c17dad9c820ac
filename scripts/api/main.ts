/**
 * API reports: the public surface of every publishable Ballast package, as API Extractor sees its built `.d.ts`,
 * written to `packages/<pkg>/api/<report>.api.md` and committed. A change to what a package exports (a name added,
 * removed, or a signature changed) shows up as a diff of that file in review.
 *
 * Run: `npm run api` (after a build) rewrites the reports; `npm run api:check` compares them with what the build
 * produces and exits 1 on any difference, saying which report changed. `npm test` runs the check.
 *
 * One TypeScript program analyses every entry point (each package's main entry, and telemetry's `/tracing` subpath
 * as a report of its own), so the check costs one compilation of the `.d.ts`, not one per package.
 */
import {
  CompilerState,
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
  type IConfigFile,
} from '@microsoft/api-extractor';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** One report: a package's entry point (its built `.d.ts`) and the report file it is written to. */
export interface ApiEntry {
  /** Workspace folder under `packages/`. */
  readonly pkg: string;
  /** Built declaration file of the entry point, relative to the package. */
  readonly dts: string;
  /** Report name: the file is `packages/<pkg>/api/<report>.api.md`. */
  readonly report: string;
}

export const ENTRIES: readonly ApiEntry[] = [
  { pkg: 'core', dts: 'dist/index.d.ts', report: 'core' },
  { pkg: 'resilience', dts: 'dist/index.d.ts', report: 'resilience' },
  { pkg: 'slo', dts: 'dist/index.d.ts', report: 'slo' },
  { pkg: 'telemetry', dts: 'dist/index.d.ts', report: 'telemetry' },
  { pkg: 'telemetry', dts: 'dist/tracing.d.ts', report: 'telemetry-tracing' },
  { pkg: 'ops', dts: 'dist/index.d.ts', report: 'ops' },
];

function configFor(entry: ApiEntry, tempFolder: string): IConfigFile {
  const projectFolder = join(ROOT, 'packages', entry.pkg);
  return {
    projectFolder,
    mainEntryPointFilePath: join(projectFolder, entry.dts),
    compiler: {
      overrideTsconfig: {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          strict: true,
          skipLibCheck: true,
        },
        files: ENTRIES.map((e) => join(ROOT, 'packages', e.pkg, e.dts)),
      },
    },
    apiReport: {
      enabled: true,
      reportFileName: entry.report,
      reportFolder: join(projectFolder, 'api'),
      reportTempFolder: tempFolder,
    },
    docModel: { enabled: false },
    dtsRollup: { enabled: false },
    tsdocMetadata: { enabled: false },
    messages: {
      compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
      extractorMessageReporting: {
        default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
        // Ballast marks nothing @public/@beta: everything a package exports is its public API.
        'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
        // Missing TSDoc is ESLint's and review's business; listed here with line numbers, it would change the
        // report on every edit that moves a line.
        'ae-undocumented': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
      },
      // TSDoc style is ESLint's and review's business; the report is about the surface.
      tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: false } },
    },
  };
}

function main(): number {
  const update = process.argv.includes('--update');
  const tempFolder = join(ROOT, 'node_modules', '.cache', 'api-extractor');
  mkdirSync(tempFolder, { recursive: true });

  const missing = ENTRIES.filter((e) => !existsSync(join(ROOT, 'packages', e.pkg, e.dts)));
  if (missing.length > 0) {
    const list = missing.map((e) => `packages/${e.pkg}/${e.dts}`).join(', ');
    process.stderr.write(`api: missing ${list}: build first (npx tsc -b tsconfig.build.json).\n`);
    return 1;
  }

  if (update) for (const e of ENTRIES) mkdirSync(join(ROOT, 'packages', e.pkg, 'api'), { recursive: true });

  const configs = ENTRIES.map((entry) =>
    ExtractorConfig.prepare({
      configObject: configFor(entry, tempFolder),
      configObjectFullPath: join(ROOT, 'packages', entry.pkg, 'api-extractor.json'),
      packageJsonFullPath: join(ROOT, 'packages', entry.pkg, 'package.json'),
    }),
  );
  const compilerState = CompilerState.create(configs[0]!, {
    additionalEntryPoints: configs.map((c) => c.mainEntryPointFilePath),
  });

  const changed: string[] = [];
  let failed = false;
  for (const [index, config] of configs.entries()) {
    const entry = ENTRIES[index]!;
    const result = Extractor.invoke(config, {
      localBuild: update,
      compilerState,
      showVerboseMessages: false,
      messageCallback: (message: ExtractorMessage) => {
        // The "report changed" notice is summarised below with the file name and what to do.
        if (message.messageId === 'console-api-report-changed') message.handled = true;
        if (message.messageId === 'console-api-report-copied') message.handled = true;
        if (message.messageId === 'console-compiler-version-notice') message.handled = true;
      },
    });
    const file = `packages/${entry.pkg}/api/${entry.report}.api.md`;
    if (result.apiReportChanged) changed.push(file);
    if (result.errorCount > 0) failed = true;
  }

  if (update) {
    process.stdout.write(
      changed.length > 0
        ? `api: updated ${changed.join(', ')}: review the diff (git diff -- packages/*/api) and commit it.\n`
        : 'api: every report is up to date.\n',
    );
    return failed ? 1 : 0;
  }
  if (changed.length > 0) {
    process.stderr.write(
      `api:check: the public API differs from the committed report: ${changed.join(', ')}.\n` +
        'If the change is intended, run `npm run api`, review the diff of packages/*/api/*.api.md (every ' +
        'added, removed or changed export is a promise to users) and commit it.\n',
    );
    return 1;
  }
  if (failed) return 1;
  process.stdout.write(`api:check: ${ENTRIES.length} reports match the built .d.ts.\n`);
  return 0;
}

process.exitCode = main();
