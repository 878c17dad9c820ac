import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Slo } from '../model.js';
import { formatSpecError } from '../openslo/errors.js';
import { loadSpecFiles } from '../openslo/load.js';
import { UsageError, type CliIo } from './command.js';

/**
 * Expands spec arguments: files as given, directories to the `*.yaml`/`*.yml` files directly inside them
 * (sorted). Paths stay as written (relative to `io.cwd`) so errors name them the way the user typed them.
 */
export async function expandSpecPaths(args: readonly string[], io: CliIo): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    let isDirectory = false;
    try {
      isDirectory = (await stat(resolve(io.cwd, arg))).isDirectory();
    } catch {
      // Not there: loadSpecFiles reports it as an unreadable file.
    }
    if (!isDirectory) {
      files.push(arg);
      continue;
    }
    const names = (await readdir(resolve(io.cwd, arg))).filter((n) => /\.ya?ml$/.test(n)).sort();
    files.push(...names.map((n) => join(arg, n)));
  }
  return files;
}

/**
 * Loads the spec files named on a command line for a `ballast-slo` command. Prints every error to stderr and
 * returns `undefined` when there are any (the command then exits 1); throws a usage error when no file is named.
 *
 * @example
 * ```ts
 * const slos = await loadCommandSpecs(positionals, io);
 * if (!slos) return EXIT.invalid;
 * ```
 */
export async function loadCommandSpecs(args: readonly string[], io: CliIo): Promise<Slo[] | undefined> {
  if (args.length === 0) throw new UsageError('expected at least one spec file or directory');
  const files = await expandSpecPaths(args, io);
  if (files.length === 0) {
    io.stderr(`no *.yaml or *.yml files in ${args.join(', ')}\n`);
    return undefined;
  }
  const result = await loadSpecFiles(files, io.cwd);
  if (result.errors.length > 0) {
    io.stderr(`${result.errors.map(formatSpecError).join('\n')}\n`);
    io.stderr(
      `${result.errors.length} error${result.errors.length === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}\n`,
    );
    return undefined;
  }
  return [...result.slos];
}
