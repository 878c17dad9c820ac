import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatSpecError, isSpecValidationError } from '../openslo/errors.js';
import { parseSlos } from '../openslo/parse.js';
import { importSloth } from '../openslo/sloth.js';
import { EXIT, UsageError, parseCommandArgs, type CliCommand } from './command.js';

/** `ballast-slo import`: OpenSLO v1 specs from a Sloth spec. */
export const command: CliCommand = {
  name: 'import',
  summary: 'Convert a Sloth spec (prometheus/v1) into OpenSLO v1',
  usage: 'ballast-slo import <sloth.yaml> [-o FILE] [--period D]',
  help: `Reads a Sloth spec (version: prometheus/v1, a service and its slos) and prints the same SLOs as OpenSLO v1
documents that every other command reads: one Service, one SLO per Sloth SLO, error_query / total_query as bad
and total events, the objective in percent as the target ratio, labels kept. The result is validated before it
is written.

Options:
  -o, --output FILE   write the OpenSLO YAML to FILE instead of standard output
  --period DURATION   the SLO period (Sloth specs carry none; default 30d, Sloth's default)

Exit codes: 0 written, 1 invalid or unsupported Sloth spec (located errors on stderr), 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      output: { type: 'string', short: 'o' },
      period: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('expected one Sloth spec file');
    const file = positionals[0]!;
    let openslo: string;
    try {
      const text = await readFile(resolve(io.cwd, file), 'utf8');
      openslo = importSloth(text, file, values.period === undefined ? {} : { period: values.period });
      parseSlos(openslo, values.output ?? '<imported>');
    } catch (error) {
      if (isSpecValidationError(error)) {
        io.stderr(`${error.errors.map(formatSpecError).join('\n')}\n`);
        return EXIT.invalid;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        io.stderr(`${file}: no such file\n`);
        return EXIT.invalid;
      }
      throw error;
    }
    if (values.output === undefined) io.stdout(openslo);
    else {
      const out = resolve(io.cwd, values.output);
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, openslo);
    }
    return EXIT.ok;
  },
};
