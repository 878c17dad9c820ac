import type { CliCommand } from './command.js';

/** One row of the command table: the name and a lazy loader of the module that exports `command`. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ readonly command: CliCommand }>;
}

/**
 * The `ballast-slo` subcommands, in the order `--help` lists them. To add one, write `src/cli/<name>.ts`
 * exporting `command: CliCommand` and add one line here.
 */
export const COMMANDS: readonly CommandEntry[] = [
  // Rows are added by the modules that implement them, one line each:
  // { name: 'validate', summary: '...', load: () => import('./validate.js') },
];
