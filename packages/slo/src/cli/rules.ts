import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { generateRules, type RulesOptions } from '../rules/generate.js';
import { generateRuleTests } from '../rules/tests.js';
import { EXIT, UsageError, parseCommandArgs, type CliCommand } from './command.js';
import { loadCommandSpecs } from './specs.js';

/** `ballast-slo rules`: Prometheus recording and alerting rules for the SLOs, and promtool tests for them. */
export const command: CliCommand = {
  name: 'rules',
  summary: 'Write Prometheus recording and alerting rules (and promtool tests)',
  usage:
    'ballast-slo rules <files or directories...> [-o FILE] [--tests DIR] [--runbook-base-url URL] [--interval D] [--meta-interval D] [--ticket-interval D] [--windows recorded|raw]',
  help: `Prints one Prometheus rules file for every SLO in the spec files: the error ratio over each alert window
(slo:sli_error:ratio{window="<window>"}), the period's traffic-weighted error ratio (slo:period_error:ratio), metadata (slo:objective:ratio,
slo:error_budget:ratio, slo:period:seconds, slo:period_burn_rate:ratio, slo:period_error_budget_remaining:ratio),
and the multi-window, multi-burn-rate alerts <Service><Slo>BurnRatePage and <Service><Slo>BurnRateTicket.

Options:
  -o, --output FILE          write the rules to FILE instead of standard output
  --tests DIR                also write promtool tests, three files per SLO: <slo>.rules.yml (its rules),
                             <slo>.raw-form.rules.yml (the same with raw windows, for comparison) and
                             <slo>.test.yml; run them with: promtool test rules DIR/*.test.yml
  --runbook-base-url URL     prefix of each alert's runbook_url: URL/runbooks/<AlertName>.md (default: relative)
  --interval DURATION        evaluation interval of every rule group (default: Prometheus's global one)
  --meta-interval DURATION   evaluation interval of each SLO's metadata group (budget left, period figures,
                             history: nothing an alert reads); default 2m, or --interval when longer
  --ticket-interval DURATION evaluation interval of each SLO's ticket group (the windows only tickets read, and
                             the ticket alert); default 1m, or --interval when longer
  --windows recorded|raw     the windows no page reads, and those of 12h and more, from the recorded 5m rates
                             (recorded, the default) or from rate() of the counters (raw)

Exit codes: 0 written, 1 invalid spec (errors on stderr), 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      output: { type: 'string', short: 'o' },
      tests: { type: 'string' },
      'runbook-base-url': { type: 'string' },
      interval: { type: 'string' },
      'meta-interval': { type: 'string' },
      'ticket-interval': { type: 'string' },
      windows: { type: 'string' },
    });
    const given = values.windows;
    if (given !== undefined && given !== 'recorded' && given !== 'raw') {
      throw new UsageError(`Expected \`--windows\` to be \`recorded\` or \`raw\`, got \`${given}\``);
    }
    const slos = await loadCommandSpecs(positionals, io);
    if (!slos) return EXIT.invalid;
    const options: RulesOptions = {
      ...(values['runbook-base-url'] === undefined ? {} : { runbookBaseUrl: values['runbook-base-url'] }),
      ...(values.interval === undefined ? {} : { interval: values.interval }),
      ...(values['meta-interval'] === undefined ? {} : { metaInterval: values['meta-interval'] }),
      ...(values['ticket-interval'] === undefined ? {} : { ticketInterval: values['ticket-interval'] }),
      ...(given === 'recorded' || given === 'raw' ? { windows: given } : {}),
    };
    const { yaml } = generateRules(slos, options);
    if (values.output === undefined) io.stdout(yaml);
    else {
      const file = resolve(io.cwd, values.output);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, yaml);
    }
    if (values.tests !== undefined) {
      const dir = resolve(io.cwd, values.tests);
      await mkdir(dir, { recursive: true });
      for (const f of generateRuleTests(slos, options)) {
        await writeFile(join(dir, f.path), f.content);
        for (const reason of f.skipped) io.stderr(`${f.slo}: test not generated: ${reason}\n`);
      }
    }
    return EXIT.ok;
  },
};
