import { EXIT, parseCommandArgs, type CliCommand } from './command.js';
import { percent } from './format.js';
import { expandSpecPaths, loadCommandSpecs } from './specs.js';

/** `ballast-slo validate`: checks spec files and lists their SLOs. */
export const command: CliCommand = {
  name: 'validate',
  summary: 'Check OpenSLO v1 spec files and list their SLOs',
  usage: 'ballast-slo validate [--quiet] <file-or-directory>...',
  help: `Parses and validates every YAML document of the given files (directories: their *.yaml and *.yml files)
together, resolving indicatorRef, alertPolicyRef and conditionRef across files.

Every error is printed to stderr as file:line:column: path: message, all of them at once.

Options:
  -q, --quiet   print nothing on success

Exit codes: 0 all valid, 1 invalid specs (errors on stderr), 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      quiet: { type: 'boolean', short: 'q' },
    });
    const slos = await loadCommandSpecs(positionals, io);
    if (!slos) return EXIT.invalid;
    if (values.quiet) return EXIT.ok;
    const files = await expandSpecPaths(positionals, io);
    const lines = slos.map((s) => {
      const window =
        s.timeWindow.kind === 'rolling'
          ? s.timeWindow.duration
          : `${s.timeWindow.duration} ${s.timeWindow.timeZone}`;
      return `  ${s.service}/${s.name}  ${percent(s.objective)} over ${window}, ${s.indicator.kind}, ${s.budgeting.method}, ${s.alerting.conditions.length} alert condition(s)`;
    });
    io.stdout(
      `ok: ${slos.length} SLO${slos.length === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}\n${lines.join('\n')}\n`,
    );
    return EXIT.ok;
  },
};
