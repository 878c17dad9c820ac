import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ManualClock, systemClock } from '@ballast/core';
import { SloEngine } from '../engine/engine.js';
import type { SloStatus } from '../engine/status.js';
import type { Slo } from '../model.js';
import { EXIT, parseCommandArgs, UsageError, type CliCommand, type CliIo } from './command.js';
import { humanDuration, percent, table } from './format.js';
import { prometheusStatuses } from './gate.js';
import { loadCommandSpecs } from './specs.js';

/** One line of an events file. */
interface EventLine {
  readonly at: number;
  readonly slo: string;
  readonly good: number;
  readonly bad: number;
}

function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    if (!Number.isNaN(t)) return t;
  }
  return undefined;
}

/**
 * Reads an events file: one JSON object per line, `{"t": "2026-01-01T00:00:00Z" | epochMs, "slo": "name",
 * "good": n, "bad": n}` (`good`/`bad` default to 0). Blank lines and lines starting with `#` are skipped.
 */
export function parseEvents(
  text: string,
  file: string,
  slos: readonly Slo[],
): { events: EventLine[]; errors: string[] } {
  const names = new Set(slos.map((s) => s.name));
  const events: EventLine[] = [];
  const errors: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}:1`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      errors.push(
        `${where}: expected a JSON object such as {"t":"2026-01-01T00:00:00Z","slo":"name","good":1,"bad":0}`,
      );
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push(`${where}: expected a JSON object with t, slo, good and bad`);
      continue;
    }
    const v = value as Record<string, unknown>;
    const at = parseTime(v.t);
    const good = v.good ?? 0;
    const bad = v.bad ?? 0;
    if (at === undefined)
      errors.push(`${where}: t: expected an ISO 8601 time or epoch milliseconds, got ${JSON.stringify(v.t)}`);
    else if (typeof v.slo !== 'string' || !names.has(v.slo)) {
      errors.push(`${where}: slo: expected one of ${[...names].join(', ')}, got ${JSON.stringify(v.slo)}`);
    } else if (
      typeof good !== 'number' ||
      !(good >= 0) ||
      typeof bad !== 'number' ||
      !(bad >= 0) ||
      !Number.isFinite(good + bad)
    ) {
      errors.push(`${where}: good, bad: expected counts >= 0, got ${JSON.stringify([v.good, v.bad])}`);
    } else events.push({ at, slo: v.slo, good, bad });
  }
  events.sort((a, b) => a.at - b.at);
  return { events, errors };
}

/** The terminal table `ballast-slo status` prints. */
export function statusTable(statuses: readonly SloStatus[]): string {
  const rows = statuses.map((s) => {
    const firing = s.alerts.filter((a) => a.firing).map((a) => a.name);
    const ref =
      s.alerts.length > 0 ? s.alerts.reduce((a, b) => (a.threshold > b.threshold ? a : b)) : undefined;
    return [
      s.slo,
      s.service,
      percent(s.objective),
      s.period.window,
      percent(s.sli),
      percent(s.errorBudget.remainingRatio, 1),
      ref ? `${ref.burnRate.toFixed(2)} (${ref.longWindow})` : '-',
      humanDuration(s.timeToExhaustionMs),
      firing.length > 0 ? firing.join(',') : '-',
      s.policy,
    ];
  });
  return table(
    [
      'SLO',
      'SERVICE',
      'OBJECTIVE',
      'WINDOW',
      'SLI',
      'BUDGET LEFT',
      'BURN',
      'EXHAUSTED IN',
      'FIRING',
      'POLICY',
    ],
    rows,
  );
}

async function readEvents(file: string, io: CliIo, slos: readonly Slo[]): Promise<EventLine[] | undefined> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    io.stderr(
      `${file}:1:1: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})\n`,
    );
    return undefined;
  }
  const { events, errors } = parseEvents(text, file, slos);
  if (errors.length > 0) {
    io.stderr(`${errors.join('\n')}\n`);
    return undefined;
  }
  return events;
}

/** `ballast-slo status`: the engine's view of the SLOs, as a table or JSON. */
export const command: CliCommand = {
  name: 'status',
  summary: 'Show SLI, error budget, burn rate and alerts of each SLO as a table',
  usage: 'ballast-slo status [--events FILE | --prometheus URL] [--at TIME] [--json] <file-or-directory>...',
  help: `Loads the specs into the in-process engine, replays the events file (if any) on the engine's clock, and
prints one row per SLO at --at (default: the last event, or now without events). With --prometheus, reads the
same figures from the SLO's counters in Prometheus instead (the fleet's view; --at defaults to now):

  SLO, SERVICE   the SLO and its service
  OBJECTIVE      the target ratio
  WINDOW         the budget period (rolling duration, or calendar unit and time zone)
  SLI            good / total events (slices for Timeslices) over the period; - without events
  BUDGET LEFT    remaining share of the error budget; negative once overspent
  BURN           the burn rate over the long window of the fastest alert condition
  EXHAUSTED IN   time until the budget is spent at that burn rate; - when nothing burns
  FIRING         alert conditions firing now (multi-window, multi-burn-rate)
  POLICY         the error-budget policy: ok, warning (<= 25% left) or exhausted (<= 0% left)

Options:
  --events FILE  JSON lines: {"t": "2026-01-01T00:00:00Z" or epoch ms, "slo": "name", "good": n, "bad": n}
  --at TIME      ISO 8601 time or epoch ms to report at
  --prometheus URL  read the events from this Prometheus (base URL of its HTTP API)
  --json         print the statuses as JSON instead of a table

Exit codes: 0 success, 1 invalid specs or events or Prometheus not answering (errors on stderr), 2 usage error,
3 an SLO's error budget is exhausted (POLICY exhausted). For a deploy gate, use \`ballast-slo gate\`.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      events: { type: 'string' },
      at: { type: 'string' },
      json: { type: 'boolean' },
      prometheus: { type: 'string' },
    });
    if (values.prometheus !== undefined && values.events !== undefined) {
      throw new UsageError('--events and --prometheus: expected one source of events, got both');
    }
    const at =
      values.at === undefined
        ? undefined
        : parseTime(/^\d+$/.test(values.at) ? Number(values.at) : values.at);
    if (values.at !== undefined && at === undefined) {
      throw new UsageError(
        `--at: expected an ISO 8601 time or epoch milliseconds, got ${JSON.stringify(values.at)}`,
      );
    }
    const slos = await loadCommandSpecs(positionals, io);
    if (!slos) return EXIT.invalid;
    if (values.prometheus !== undefined) {
      const read = await prometheusStatuses(
        slos,
        values.prometheus,
        at ?? (io.now ?? (() => systemClock.now()))(),
      );
      if ('error' in read) {
        io.stderr(`${read.error}\n`);
        return EXIT.invalid;
      }
      return print(read.statuses, values.json === true, io);
    }
    const events = values.events === undefined ? [] : await readEvents(values.events, io, slos);
    if (!events) return EXIT.invalid;
    const now = at ?? events.at(-1)?.at ?? (io.now ?? (() => systemClock.now()))();
    const clock = new ManualClock(Math.min(events[0]?.at ?? now, now));
    const engine = new SloEngine({ slos, clock, evaluateEveryMs: 0 });
    for (const e of events) {
      if (e.at > now) break;
      clock.set(e.at);
      engine.record(e.slo, e.good, e.bad);
    }
    clock.set(now);
    return print(engine.statusAll(), values.json === true, io);
  },
};

/** Exit code of `status` when an SLO's error budget is exhausted (a script can tell it from bad input). */
export const STATUS_EXHAUSTED = 3;

function print(statuses: readonly SloStatus[], json: boolean, io: CliIo): number {
  io.stdout(json ? `${JSON.stringify(statuses, null, 2)}\n` : `${statusTable(statuses)}\n`);
  const spent = statuses.filter((s) => s.policy === 'exhausted').map((s) => s.slo);
  if (spent.length === 0) return EXIT.ok;
  io.stderr(`error budget exhausted: ${spent.join(', ')}\n`);
  return STATUS_EXHAUSTED;
}
