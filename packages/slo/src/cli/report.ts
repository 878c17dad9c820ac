import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { systemClock } from '@ballast/core';
import { PrometheusBackend } from '../prometheus/backend.js';
import { engineReport } from '../report/from-engine.js';
import { prometheusReport } from '../report/from-prometheus.js';
import { renderHtmlReport } from '../report/html.js';
import { renderMarkdownReport } from '../report/markdown.js';
import type { SloReport } from '../report/model.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand } from './command.js';
import { loadCommandSpecs } from './specs.js';
import { parseEvents } from './status.js';

function parseAt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const at = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(at)) {
    throw new UsageError(
      `--at: expected an ISO 8601 time or epoch milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return at;
}

/** `ballast-slo report`: an HTML or Markdown report for managers, from the engine or from Prometheus. */
export const command: CliCommand = {
  name: 'report',
  summary: 'Render an HTML or Markdown SLO report',
  usage:
    'ballast-slo report <files or directories...> (--events FILE | --prometheus URL) [--format html|md] [-o FILE] [--title TEXT] [--at TIME]',
  help: `Renders a report of every SLO in the spec files: a summary, a table (objective, period, SLI, error budget
left, burn rate, how long the budget lasts at that rate, alerts in the period, status) and, per SLO, charts of the
error budget left over the period and of the SLI over time, and the alerts of the period.

The numbers come from the in-process engine, replaying an events file, or from a Prometheus server:

  --events FILE      JSON lines: {"t": "2026-01-01T00:00:00Z" or epoch ms, "slo": "name", "good": n, "bad": n}
  --prometheus URL   the Prometheus HTTP API (http://127.0.0.1:9090); the SLOs' queries are evaluated there

Options:
  --format html|md   a self-contained HTML page (default) or Markdown
  -o, --output FILE  write to FILE instead of standard output
  --title TEXT       the report's title (default: "SLO report")
  --at TIME          ISO 8601 time or epoch ms to report at (default: the last event, or now with --prometheus)

Exit codes: 0 written, 1 invalid specs or events, or Prometheus unreachable (errors on stderr), 2 usage error.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      events: { type: 'string' },
      prometheus: { type: 'string' },
      format: { type: 'string' },
      output: { type: 'string', short: 'o' },
      title: { type: 'string' },
      at: { type: 'string' },
    });
    const format = values.format ?? 'html';
    if (format !== 'html' && format !== 'md') {
      throw new UsageError(`--format: expected html or md, got ${JSON.stringify(format)}`);
    }
    if ((values.events === undefined) === (values.prometheus === undefined)) {
      throw new UsageError('expected exactly one of --events FILE or --prometheus URL');
    }
    const at = parseAt(values.at);
    const slos = await loadCommandSpecs(positionals, io);
    if (!slos) return EXIT.invalid;
    const title = values.title ?? 'SLO report';
    let report: SloReport;
    if (values.events !== undefined) {
      let text: string;
      try {
        text = await readFile(resolve(io.cwd, values.events), 'utf8');
      } catch (error) {
        io.stderr(
          `${values.events}:1:1: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`,
        );
        return EXIT.invalid;
      }
      const { events, errors } = parseEvents(text, values.events, slos);
      if (errors.length > 0) {
        io.stderr(`${errors.join('\n')}\n`);
        return EXIT.invalid;
      }
      const now = at ?? events.at(-1)?.at ?? (io.now ?? (() => systemClock.now()))();
      report = engineReport(slos, events, { title, at: now });
    } else {
      const url = values.prometheus!;
      if (!/^https?:\/\//.test(url))
        throw new UsageError(`--prometheus: expected an http(s) URL, got ${JSON.stringify(url)}`);
      const now = at ?? (io.now ?? (() => systemClock.now()))();
      const backend = new PrometheusBackend(slos, { url, clock: { ...systemClock, now: () => now } });
      try {
        report = await prometheusReport(backend, { title, source: `Prometheus at ${url}` });
      } catch (error) {
        io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
        return EXIT.invalid;
      }
    }
    const text = format === 'html' ? renderHtmlReport(report) : renderMarkdownReport(report);
    if (values.output === undefined) io.stdout(text);
    else {
      const file = resolve(io.cwd, values.output);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
    }
    return EXIT.ok;
  },
};
