#!/usr/bin/env node
import { readFile, readdir, stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatSpecError, loadSpecFiles } from '@ballast/slo';
import { generateOps } from '../generate.js';
import {
  defaultService,
  formatServiceError,
  parseServiceFile,
  resolveService,
  type ResolvedService,
} from '../service.js';
import { diffGenerated, writeGenerated } from '../write.js';

/**
 * Where `ballast-ops` reads and writes; tests pass their own.
 *
 * @example
 * ```ts
 * const io: OpsCliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), cwd: process.cwd() };
 * ```
 */
export interface OpsCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The directory relative paths are resolved against. */
  readonly cwd: string;
}

const USAGE =
  'ballast-ops generate --slos <OpenSLO files or directories...> --out <dir> [--service <file>] [--check]';

const HELP = `Usage: ${USAGE}

Writes, for the service the SLOs describe:
  dashboards/            Grafana dashboards: RED, USE, resilience policies, SLO overview, SLO detail
  runbooks/              one runbook per alert (Meaning, Impact, Diagnosis, Mitigation), an index, incident
                         response, a postmortem template and an on-call handoff checklist
  <prometheus>/          recording and burn-rate rules (@ballast/slo), operational and absence alerts, promtool
                         tests for all of them, and a prometheus.yml to try them (default \`prometheus/\`)
  <kubernetes>/          the same rules as prometheus-operator PrometheusRule resources, and one Argo Rollouts
                         AnalysisTemplate per SLO that judges a canary by its burn rate (default \`kubernetes/\`)

ballast-ops owns those directories under --out: files it no longer writes there are removed.

Options:
  --slos FILES     OpenSLO v1 spec files or directories (their *.yaml/*.yml); more may follow as arguments
  --out DIR        the output directory
  --service FILE   the service file (name, job, shell commands, levers, extra alerts); without it, defaults
  --check          write nothing; exit 1 when a file would change (for CI)

Exit codes: 0 success, 1 invalid specs or service file (file:line:col on stderr) or files out of date, 2 usage error.
`;

async function expand(paths: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let dir = false;
    try {
      dir = (await stat(resolve(cwd, p))).isDirectory();
    } catch {
      // reported by loadSpecFiles
    }
    if (!dir) out.push(p);
    else
      out.push(
        ...(await readdir(resolve(cwd, p)))
          .filter((n) => /\.ya?ml$/.test(n))
          .sort()
          .map((n) => join(p, n)),
      );
  }
  return out;
}

/**
 * Runs `ballast-ops` with `argv` (without `node` and the script); resolves with the exit code. Never throws.
 *
 * @example
 * ```ts
 * import { runOpsCli } from '@ballast/ops';
 * const code = await runOpsCli(['generate', '--slos', 'slos/', '--out', 'ops']);
 * ```
 */
export async function runOpsCli(argv: readonly string[], io: OpsCliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return 0;
  }
  if (command !== 'generate') {
    io.stderr(
      `ballast-ops: expected the command \`generate\`, got ${command === undefined ? 'nothing' : `\`${command}\``}\nUsage: ${USAGE}\n`,
    );
    return 2;
  }
  let values: { slos?: string[]; out?: string; service?: string; check?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      allowPositionals: true,
      strict: true,
      options: {
        slos: { type: 'string', multiple: true },
        out: { type: 'string' },
        service: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.stderr(
      `ballast-ops generate: ${error instanceof Error ? error.message : String(error)}\nUsage: ${USAGE}\n`,
    );
    return 2;
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const specArgs = [...(values.slos ?? []), ...positionals];
  if (specArgs.length === 0 || values.out === undefined) {
    io.stderr(`ballast-ops generate: expected --slos and --out\nUsage: ${USAGE}\n`);
    return 2;
  }
  const specFiles = await expand(specArgs, io.cwd);
  const loaded = await loadSpecFiles(specFiles, io.cwd);
  const errors = loaded.errors.map(formatSpecError);
  if (specFiles.length === 0) errors.push(`${specArgs.join(', ')}: no *.yaml or *.yml files`);
  let service: ResolvedService | undefined;
  if (values.service !== undefined) {
    let text: string | undefined;
    try {
      text = await readFile(resolve(io.cwd, values.service), 'utf8');
    } catch (error) {
      errors.push(
        `${values.service}:1:1: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
    if (text !== undefined) {
      const parsed = parseServiceFile(text, values.service);
      if ('errors' in parsed) errors.push(...parsed.errors.map(formatServiceError));
      else service = resolveService(parsed.service);
    }
  }
  if (errors.length === 0 && loaded.slos.length === 0)
    errors.push(`${specFiles.join(', ')}:1:1: expected at least one SLO`);
  if (errors.length > 0) {
    io.stderr(`${errors.join('\n')}\n`);
    return 1;
  }
  service ??= defaultService(loaded.slos.map((s) => s.service));
  const output = generateOps({ slos: loaded.slos, service });
  if (output.lint.length > 0) {
    io.stderr(`ballast-ops generate: the dashboards break the dashboard rules:\n${output.lint.join('\n')}\n`);
    return 1;
  }
  const out = resolve(io.cwd, values.out);
  const dirs = ['dashboards', 'runbooks', service.output.prometheus, service.output.kubernetes];
  if (values.check) {
    const stale = diffGenerated(out, output.files, dirs);
    if (stale.length > 0) {
      io.stderr(
        `ballast-ops generate --check: out of date (run ballast-ops generate):\n${stale.map((p) => `  ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    io.stdout(`ballast-ops generate --check: ${output.files.size} files up to date\n`);
    return 0;
  }
  const { created, updated, removed } = writeGenerated(out, output.files, dirs);
  for (const path of created) io.stdout(`created ${path}\n`);
  for (const path of updated) io.stdout(`updated ${path}\n`);
  for (const path of removed) io.stdout(`removed ${path}\n`);
  io.stdout(
    `ballast-ops generate: ${output.files.size} files, ${created.length + updated.length + removed.length} changed\n`,
  );
  return 0;
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
  void runOpsCli(process.argv.slice(2), {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    cwd: process.cwd(),
  }).then((code) => {
    process.exitCode = code;
  });
}
