import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Slo } from '../model.js';
import { SpecValidationError, type SpecError } from './errors.js';
import { parseSpecs, type SpecParseResult, type SpecSource } from './parse.js';

/**
 * Reads spec files (paths relative to `cwd`) and parses them together with {@link parseSpecs}. A file that
 * cannot be read is reported as an error at its line 1, column 1; nothing throws.
 *
 * @example
 * ```ts
 * import { loadSpecFiles } from '@ballast/slo';
 * const { slos, errors } = await loadSpecFiles(['slos/checkout.yaml']);
 * ```
 */
export async function loadSpecFiles(paths: readonly string[], cwd = process.cwd()): Promise<SpecParseResult> {
  const sources: SpecSource[] = [];
  const unreadable: SpecError[] = [];
  for (const file of paths) {
    try {
      sources.push({ file, text: await readFile(resolve(cwd, file), 'utf8') });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      unreadable.push({
        file,
        line: 1,
        column: 1,
        document: 0,
        path: '',
        message: `cannot read the file (${code ?? (error instanceof Error ? error.message : String(error))})`,
      });
    }
  }
  const result = parseSpecs(sources);
  if (unreadable.length === 0) return result;
  return { slos: [], errors: [...unreadable, ...result.errors], documents: result.documents };
}

/**
 * Reads and validates spec files and returns their SLOs; throws a {@link SpecValidationError} listing every
 * error of every file.
 *
 * @example
 * ```ts
 * import { loadSlos, SloEngine } from '@ballast/slo';
 * const engine = new SloEngine({ slos: await loadSlos(['slo/retailflow.yaml']) });
 * ```
 */
export async function loadSlos(paths: readonly string[], cwd = process.cwd()): Promise<Slo[]> {
  const result = await loadSpecFiles(paths, cwd);
  if (result.errors.length > 0) throw new SpecValidationError(result.errors);
  return [...result.slos];
}
