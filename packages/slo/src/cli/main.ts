#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT, isUsageError, type CliIo } from './command.js';
import { COMMANDS } from './commands.js';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4);
  return [
    'Usage: ballast-slo <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `ballast-slo <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 invalid input (errors on stderr), 2 usage error;',
    '`status` exits 3 when an error budget is exhausted; `gate` exits 0 ship, 1 freeze, 2 unknown.',
    '',
  ].join('\n');
}

/** The process's standard streams as {@link CliIo}. */
export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: process.cwd(),
};

/**
 * Runs `ballast-slo` with `argv` (without `node` and the script) and returns the exit code: 0 success, 1 invalid
 * input (errors on stderr), 2 usage error. Never throws: an unexpected failure is printed and exits 1.
 *
 * @example
 * ```ts
 * // Internal to @ballast/slo: the `ballast-slo` bin calls it; tests run it in-process.
 * import { main } from './main.js';
 * const code = await main(['validate', 'slos/checkout.yaml']);
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const text = overview();
    if (name === undefined) {
      io.stderr(text);
      return EXIT.usage;
    }
    io.stdout(text);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.stderr(`ballast-slo: unknown command \`${name}\`\n\n${overview()}`);
    return EXIT.usage;
  }
  const { command } = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`Usage: ${command.usage}\n\n${command.help.trimEnd()}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (isUsageError(error)) {
      io.stderr(`ballast-slo ${name}: ${error.message}\nUsage: ${command.usage}\n`);
      return EXIT.usage;
    }
    io.stderr(
      `ballast-slo ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.invalid;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
