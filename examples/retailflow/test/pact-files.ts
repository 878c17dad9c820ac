import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

/** Where RetailFlow's pact files are committed: the contracts the providers are verified against. */
export const PACT_DIR = fileURLToPath(new URL('../pacts/', import.meta.url));

/** A fresh directory for Pact to write a pact file into (Pact merges into an existing file: never reuse one). */
export function scratchPactDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'retailflow-pact-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The parts of a pact file that say what is expected (the tool versions in `metadata` are left out). */
function contract(pact: Record<string, unknown>): unknown {
  const { metadata: _metadata, ...rest } = pact;
  return rest;
}

/**
 * Compares the pact file a consumer test just wrote in `scratch` with the committed one in {@link PACT_DIR}. With
 * `PACT_UPDATE=1` it writes the new one over the committed one (commit it: the providers are verified against it);
 * without, a difference is an error saying so — a consumer's expectations never change silently.
 */
export function checkPactFile(scratch: string, name: string): void {
  const written = readFileSync(join(scratch, name), 'utf8');
  const committedPath = join(PACT_DIR, name);
  let committed: string | undefined;
  try {
    committed = readFileSync(committedPath, 'utf8');
  } catch {
    committed = undefined;
  }
  const same =
    committed !== undefined &&
    isDeepStrictEqual(
      contract(JSON.parse(written) as Record<string, unknown>),
      contract(JSON.parse(committed) as Record<string, unknown>),
    );
  if (same) return;
  if (process.env.PACT_UPDATE === '1') {
    writeFileSync(committedPath, JSON.stringify(JSON.parse(written), null, 2) + '\n');
    return;
  }
  throw new Error(
    `the consumer's expectations in pacts/${name} changed (or the file is missing). Review the change, then ` +
      `rewrite it with PACT_UPDATE=1 npx vitest run examples/retailflow/test/pact-*.test.ts and commit it: the ` +
      'provider is verified against the committed file.',
  );
}
