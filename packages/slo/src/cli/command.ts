import { parseArgs, type ParseArgsConfig } from 'node:util';
import { brand, hasBrand } from '@ballast/core';

/**
 * Exit codes of `ballast-slo`: 0 success, 1 invalid input (errors on stderr), 2 usage error.
 * @example
 * ```ts
 * return EXIT.invalid; // 1
 * ```
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/**
 * Where a command reads and writes. Tests pass their own to capture output; the binary uses the process.
 *
 * @example
 * ```ts
 * const out: string[] = [];
 * const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), cwd: process.cwd() };
 * ```
 */
export interface CliIo {
  /** Writes text to standard output (the text carries its own newlines). */
  readonly stdout: (text: string) => void;
  /** Writes text to standard error. */
  readonly stderr: (text: string) => void;
  /** The directory relative paths are resolved against. */
  readonly cwd: string;
  /** Epoch milliseconds "now" for commands that need it. @default systemClock.now */
  readonly now?: () => number;
}

/**
 * One `ballast-slo` subcommand. Register it in `COMMANDS` (src/cli/commands.ts).
 *
 * @example
 * ```ts
 * const hello: CliCommand = {
 *   name: 'hello',
 *   summary: 'Say hello',
 *   usage: 'ballast-slo hello',
 *   help: 'Prints hello.',
 *   run: (_args, io) => { io.stdout('hello\n'); return EXIT.ok; },
 * };
 * ```
 */
export interface CliCommand {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The synopsis line (`ballast-slo validate <files...>`). */
  readonly usage: string;
  /** The rest of `--help`: what the command does, its options and exit codes. */
  readonly help: string;
  /** Runs the command; throw {@link UsageError} for bad arguments. Returns the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number> | number;
}

const kUsageError = Symbol.for('ballast.slo.UsageError');

/**
 * Bad command-line arguments: `ballast-slo` prints the message and the command's usage, and exits 2.
 *
 * @example
 * ```ts
 * throw new UsageError('expected at least one spec file');
 * ```
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
    brand(this, kUsageError);
  }
}

/**
 * True when `value` is a {@link UsageError}, even from another copy of the package.
 * @example
 * ```ts
 * if (isUsageError(error)) process.exitCode = EXIT.usage;
 * ```
 */
export function isUsageError(value: unknown): value is UsageError {
  return hasBrand(value, kUsageError);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `node:util` `parseArgs` in strict mode with positionals allowed, turning its errors into {@link UsageError}s.
 *
 * @example
 * ```ts
 * const { values, positionals } = parseCommandArgs(['-o', 'x.yaml', 'a.yaml'], { output: { type: 'string', short: 'o' } });
 * ```
 */
export function parseCommandArgs<O extends Options>(
  args: readonly string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
