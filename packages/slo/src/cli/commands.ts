import type { CliCommand } from './command.js';

/**
 * One row of the command table: the name and a lazy loader of the module that exports `command`.
 * @example
 * ```ts
 * const entry: CommandEntry = { name: 'status', summary: 'Show status', load: () => import('./status.js') };
 * ```
 */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ readonly command: CliCommand }>;
}

/**
 * The `ballast-slo` subcommands, in the order `--help` lists them. To add one, write `src/cli/<name>.ts`
 * exporting `command: CliCommand` and add one line here.
 * @example
 * ```ts
 * COMMANDS.map((c) => c.name); // ['validate', ..., 'status']
 * ```
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'Check OpenSLO v1 spec files and list their SLOs',
    load: () => import('./validate.js'),
  },
  {
    name: 'import',
    summary: 'Convert a Sloth spec (prometheus/v1) into OpenSLO v1',
    load: () => import('./import.js'),
  },
  {
    name: 'rules',
    summary: 'Write Prometheus recording and alerting rules (and promtool tests)',
    load: () => import('./rules.js'),
  },
  {
    name: 'report',
    summary: 'Render an HTML or Markdown SLO report',
    load: () => import('./report.js'),
  },
  {
    name: 'canary',
    summary: 'Judge a canary against its baseline from Prometheus (pass, fail or inconclusive)',
    load: () => import('./canary.js'),
  },
  {
    name: 'status',
    summary: 'Show SLI, error budget, burn rate and alerts of each SLO as a table',
    load: () => import('./status.js'),
  },
  {
    name: 'gate',
    summary: 'Deploy gate: exit 0 ship, 1 freeze, 2 unknown, from the error budgets in Prometheus',
    load: () => import('./gate.js'),
  },
];
