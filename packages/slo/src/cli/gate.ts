import { ManualClock, systemClock } from '@ballast/core';
import type { SloStatus } from '../engine/status.js';
import type { Slo } from '../model.js';
import { PrometheusBackend } from '../prometheus/backend.js';
import { parseCommandArgs, UsageError, type CliCommand, type CliIo } from './command.js';
import { percent } from './format.js';
import { loadCommandSpecs } from './specs.js';

/**
 * Exit codes of `ballast-slo gate`: 0 ship, 1 freeze, 2 unknown (no answer, no data, bad input).
 * @example
 * ```ts
 * if (code === GATE_EXIT.freeze) console.log('hold the deploy');
 * ```
 */
export const GATE_EXIT = { ship: 0, freeze: 1, unknown: 2 } as const;

/** The verdict of the deploy gate. */
export type GateVerdict = keyof typeof GATE_EXIT;

/** The verdict and one reason per SLO. */
export interface GateDecision {
  readonly verdict: GateVerdict;
  /** One line per SLO: `<slo>: <verdict>: <why>`. */
  readonly reasons: readonly string[];
}

/** Options of {@link gateDecision}. */
export interface GateOptions {
  /** Freeze while a `page` burn-rate alert fires, even with budget left. @default true */
  readonly freezeOnPage?: boolean;
}

const RANK: Readonly<Record<GateVerdict, number>> = { ship: 0, unknown: 1, freeze: 2 };

/**
 * Decides ship / freeze / unknown from SLO statuses: freeze when an SLO's error-budget policy is `exhausted` or
 * (by default) one of its `page` alerts fires; unknown when an SLO has no events in its period (nothing proves it
 * is healthy); ship otherwise. Freeze wins over unknown: a spent budget is a reason to hold whatever else is
 * unknown.
 *
 * @example
 * ```ts
 * const { verdict, reasons } = gateDecision(await backend.statusAll());
 * ```
 */
export function gateDecision(statuses: readonly SloStatus[], options: GateOptions = {}): GateDecision {
  const freezeOnPage = options.freezeOnPage ?? true;
  let verdict: GateVerdict = 'ship';
  const reasons: string[] = [];
  for (const s of statuses) {
    const left = percent(s.errorBudget.remainingRatio, 1);
    const paging = s.alerts.filter((a) => a.firing && a.severity === 'page').map((a) => a.name);
    let v: GateVerdict;
    let why: string;
    if (s.events.good + s.events.bad === 0) {
      v = 'unknown';
      why = `no events in the period (${s.period.window}): is the SLI recorded and scraped?`;
    } else if (s.policy === 'exhausted') {
      v = 'freeze';
      why = `error budget exhausted (${left} left, SLI ${percent(s.sli)} against ${percent(s.objective)})`;
    } else if (freezeOnPage && paging.length > 0) {
      v = 'freeze';
      why = `burning at page rate now (${paging.join(', ')}), ${left} of the budget left`;
    } else {
      v = 'ship';
      why = `${left} of the error budget left${s.policy === 'warning' ? ' (warning)' : ''}, SLI ${percent(s.sli)}`;
    }
    if (RANK[v] > RANK[verdict]) verdict = v;
    reasons.push(`${s.slo}: ${v}: ${why}`);
  }
  if (statuses.length === 0) return { verdict: 'unknown', reasons: ['no SLO to judge'] };
  return { verdict, reasons };
}

function parseRatio(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < -1 || n > 1) {
    throw new UsageError(
      `--${name}: expected a ratio between -1 and 1 such as 0.1, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function parseAt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(t)) {
    throw new UsageError(
      `--at: expected an ISO 8601 time or epoch milliseconds, got ${JSON.stringify(value)}`,
    );
  }
  return t;
}

/**
 * Reads the statuses of `slos` from the Prometheus at `url` at `at`. Resolves with the statuses, or with the error
 * message when Prometheus cannot answer.
 */
export async function prometheusStatuses(
  slos: readonly Slo[],
  url: string,
  at: number,
  options: { readonly exhausted?: number; readonly timeoutMs?: number } = {},
): Promise<{ statuses: SloStatus[] } | { error: string }> {
  let backend: PrometheusBackend;
  try {
    backend = new PrometheusBackend(slos, {
      url,
      clock: new ManualClock(at),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.exhausted === undefined
        ? {}
        : { budgetPolicy: { exhausted: options.exhausted, warning: Math.max(0.25, options.exhausted) } }),
    });
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  try {
    return { statuses: await backend.statusAll() };
  } catch (error) {
    return {
      error: `Prometheus at ${url} did not answer: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

function now(io: CliIo): number {
  return (io.now ?? (() => systemClock.now()))();
}

/** `ballast-slo gate`: a deploy gate on the fleet's error budgets, read from Prometheus. */
export const command: CliCommand = {
  name: 'gate',
  summary: 'Deploy gate: exit 0 ship, 1 freeze, 2 unknown, from the error budgets in Prometheus',
  usage:
    'ballast-slo gate --prometheus URL [--slo NAME]... [--at TIME] [--min-budget RATIO] <file-or-directory>...',
  help: `Reads each SLO's error budget and burn rates from Prometheus (the counters the SLO names, evaluated at
--at, default now) and decides whether a deploy may go out:

  ship     every SLO has events in its period, budget left above --min-budget, and no page alert firing
  freeze   an SLO's error budget is spent (at or below --min-budget) or one of its page alerts fires
  unknown  Prometheus did not answer, an SLO has no events in its period, or the input is bad

The first line is the verdict and its reason (\`gate: freeze: checkout-availability: error budget exhausted ...\`),
then one line per SLO. Freeze wins over unknown.

Options:
  --prometheus URL    base URL of the Prometheus HTTP API (required)
  --slo NAME          judge only this SLO (repeatable); default every SLO in the files
  --at TIME           ISO 8601 time or epoch ms to judge at (default now)
  --min-budget RATIO  freeze when the budget left is at or below this share (default 0)
  --ignore-pages      do not freeze on a firing page alert (budget only)
  --timeout-ms MS     per-request timeout (default 10000)

Exit codes: 0 ship, 1 freeze, 2 unknown (including usage errors and invalid specs: a gate that cannot decide
never lets a deploy through by accident).`,
  async run(args, io) {
    let parsed;
    try {
      parsed = parseCommandArgs(args, {
        prometheus: { type: 'string' },
        slo: { type: 'string', multiple: true },
        at: { type: 'string' },
        'min-budget': { type: 'string' },
        'ignore-pages': { type: 'boolean' },
        'timeout-ms': { type: 'string' },
      });
    } catch (error) {
      io.stdout(`gate: unknown: ${error instanceof Error ? error.message : String(error)}\n`);
      return GATE_EXIT.unknown;
    }
    const { values, positionals } = parsed;
    let at: number;
    let exhausted: number | undefined;
    let timeoutMs: number | undefined;
    try {
      if (values.prometheus === undefined) throw new UsageError('--prometheus URL is required');
      at = parseAt(values.at) ?? now(io);
      exhausted = parseRatio('min-budget', values['min-budget']);
      if (values['timeout-ms'] !== undefined) {
        timeoutMs = Number(values['timeout-ms']);
        if (!(timeoutMs > 0))
          throw new UsageError(
            `--timeout-ms: expected a number > 0, got ${JSON.stringify(values['timeout-ms'])}`,
          );
      }
    } catch (error) {
      io.stdout(`gate: unknown: ${error instanceof Error ? error.message : String(error)}\n`);
      return GATE_EXIT.unknown;
    }
    let slos: Slo[] | undefined;
    try {
      slos = await loadCommandSpecs(positionals, io);
    } catch (error) {
      io.stdout(`gate: unknown: ${error instanceof Error ? error.message : String(error)}\n`);
      return GATE_EXIT.unknown;
    }
    if (!slos) {
      io.stdout('gate: unknown: the SLO specs are invalid (errors above)\n');
      return GATE_EXIT.unknown;
    }
    const wanted = values.slo ?? [];
    const missing = wanted.filter((n) => !slos.some((s) => s.name === n));
    if (missing.length > 0) {
      io.stdout(
        `gate: unknown: --slo ${missing.join(', ')}: expected one of ${slos.map((s) => s.name).join(', ')}\n`,
      );
      return GATE_EXIT.unknown;
    }
    const judged = wanted.length > 0 ? slos.filter((s) => wanted.includes(s.name)) : slos;
    const read = await prometheusStatuses(judged, values.prometheus, at, {
      ...(exhausted === undefined ? {} : { exhausted }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
    if ('error' in read) {
      io.stdout(`gate: unknown: ${read.error}\n`);
      return GATE_EXIT.unknown;
    }
    const decision = gateDecision(read.statuses, { freezeOnPage: values['ignore-pages'] !== true });
    const first =
      decision.reasons.find((r) => r.includes(`: ${decision.verdict}: `)) ?? decision.reasons[0] ?? '';
    io.stdout(`gate: ${decision.verdict}: ${first}\n${decision.reasons.map((r) => `  ${r}\n`).join('')}`);
    return GATE_EXIT[decision.verdict];
  },
};
