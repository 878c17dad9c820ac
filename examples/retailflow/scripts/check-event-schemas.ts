/**
 * The event-schema compatibility gate (run by `npm test` through test/events-schema-gate.test.ts, and by hand with
 * `npm run -w @ballast/retailflow check:events`): every version of every event type must read the previous one
 * (BACKWARD) or come with an upcaster, and a version once committed may only change compatibly and never
 * disappear. "As first published" is the version of the file in the commit that added it (git history).
 */
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSchemaRegistry, type RegistryProblem } from '../src/events/compatibility.js';
import { DEFAULT_SCHEMA_DIR, readSchemaFiles } from '../src/events/schemas.js';
import { UPCASTERS, type Upcaster } from '../src/events/upcasters.js';

const VERSION_PATH = /([^/]+)\/v([1-9][0-9]*)\.schema\.json$/;

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 26,
  });
}

/**
 * Each schema version as the commit that added it had it, keyed `<type>@<version>`; empty (with `note` set) when
 * `dir` is not in a git work tree.
 */
export function publishedSchemas(dir: string): {
  published: Map<string, { schema: Record<string, unknown>; label: string }>;
  note?: string;
} {
  const published = new Map<string, { schema: Record<string, unknown>; label: string }>();
  let top: string;
  try {
    top = git(dir, ['rev-parse', '--show-toplevel']).trim();
  } catch {
    return { published, note: `${dir} is not in a git work tree: published versions not checked` };
  }
  // Oldest first, so the first commit that added a path wins.
  const log = git(top, [
    'log',
    '--reverse',
    '--diff-filter=A',
    '--format=@%H',
    '--name-only',
    '--',
    relative(top, dir) || '.',
  ]);
  let commit = '';
  for (const line of log.split('\n')) {
    if (line.startsWith('@')) commit = line.slice(1);
    else if (line !== '' && commit !== '') {
      const match = VERSION_PATH.exec(line);
      if (!match) continue;
      const key = `${match[1]}@${Number(match[2])}`;
      if (published.has(key)) continue;
      try {
        const schema = JSON.parse(git(top, ['show', `${commit}:${line}`])) as Record<string, unknown>;
        published.set(key, { schema, label: `commit ${commit.slice(0, 12)}` });
      } catch {
        // A version that was not valid JSON when added has no baseline.
      }
    }
  }
  return { published };
}

/** Runs the gate over `dir` with `upcasters`; the problems found, and a note when history was not available. */
export function runSchemaGate(
  dir: string = DEFAULT_SCHEMA_DIR,
  upcasters: readonly Upcaster[] = UPCASTERS,
): { problems: RegistryProblem[]; note?: string; versions: number } {
  const files = readSchemaFiles(dir);
  const { published, note } = publishedSchemas(dir);
  const problems = checkSchemaRegistry({ files, upcasters, published });
  return { problems, versions: files.length, ...(note ? { note } : {}) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2] ?? DEFAULT_SCHEMA_DIR;
  const { problems, note, versions } = runSchemaGate(dir);
  if (note) console.warn(`check:events: ${note}`);
  if (problems.length > 0) {
    for (const p of problems) console.error(`check:events: ${p.message}`);
    process.exitCode = 1;
  } else {
    console.log(
      `check:events: ${versions} schema versions under ${relative(process.cwd(), dir) || dir} are compatible`,
    );
  }
}
