// Runbooks as tests. For each operational alert of RetailFlow, a drill against live instances (real PostgreSQL,
// Redis and RabbitMQ) scraped by a real Prometheus that loads the generated rules: inject the fault, wait for the
// alert, run the diagnosis commands parsed from the generated runbook (runbooks/<Alert>.md) with its placeholders
// filled in, check that their output points at the cause, run the runbook's mitigation command, and check that the
// alert resolves. A runbook whose commands fail or point elsewhere fails its drill.
//
// Time is compressed: every duration in the generated rules (`for:` and range selectors) is divided by
// `compression`, thresholds are kept, so an alert that waits 5 minutes in production waits 15 s here at 20x. The
// runbooks' PromQL queries get the same treatment, and so do the window lengths the SLO alerts' history guards
// compare history with. The drills run side by side, each on its own instance and database (two follow another
// drill on its instance), so the section takes as long as its slowest chain. Four alerts share one fault (the
// missing target and the three no-data alerts it causes): it is undone once all four have diagnosed it.
//
// Faults never touch the shared services: the broker outage cuts a TCP proxy between one instance and RabbitMQ
// (on a virtual host of its own), the payment provider goes down through the simulator's knobs, the target-down
// drill kills one instance, a poison event is published on a virtual host of the dead-letter drill's own, the
// missing-target drill empties the targets file a Prometheus of its own discovers the job from, and the relay,
// event-loop, critical-shedding and SLO page drills switch on the instance's own chaos (`/admin/chaos`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { fillPlaceholders, readRunbook, type RunbookCommands } from './runbook.js';
import { freePort, KEYS, ROOT, sleep, startService, type ServiceProcess } from './service.js';

const run = promisify(execFile);

type Goal = {
  readonly value: number | null;
  readonly goal: number;
  readonly met: boolean;
  readonly firedAfterSec: number | null;
  readonly resolvedAfterSec: number | null;
};

/** What one command of a runbook answered. */
export interface CommandRun {
  readonly kind: 'sh' | 'promql';
  readonly command: string;
  readonly exitCode: number;
  /** The first 400 characters of its output (stdout, then stderr), or the query's result as JSON. */
  readonly output: string;
}

/** One drill's story. */
export interface Drill {
  readonly alert: string;
  readonly fault: string;
  readonly passed: boolean;
  /** Why the drill failed ('' when it passed). */
  readonly failure: string;
  /** Seconds from the fault to the alert firing in Prometheus. */
  readonly firedAfterSec: number | null;
  /** Seconds from the mitigation done to the alert no longer firing. */
  readonly resolvedAfterSec: number | null;
  /** Seconds the mitigation itself took (a command, or a restart). */
  readonly mitigationSec: number | null;
  /** What the diagnosis showed, one line per check (`ok`/`MISSING`: what was looked for). */
  readonly evidence: readonly string[];
  readonly mitigation: string;
  readonly commands: readonly CommandRun[];
}

/** What the drills section measured. */
export interface DrillsResult {
  readonly compression: number;
  readonly scrapeSec: number;
  readonly drills: readonly Drill[];
  readonly goals: Record<string, Goal>;
}

/** Knobs of the section. */
export interface DrillsOptions {
  /** Base environment (DATABASE_URL, REDIS_URL, AMQP_URL of the real services). */
  readonly env: Record<string, string>;
  /** Durations in the rules are divided by this. @default 20 */
  readonly compression?: number;
  /** Longest a drill waits for its alert to fire, then to resolve, in seconds. @default 150 */
  readonly waitSec?: number;
  /**
   * The quick form (CI) leaves out {@link LONG_DRILLS}, which take longer than its budget allows. @default false
   */
  readonly quick?: boolean;
  readonly log: (line: string) => void;
}

// --- time compression of the generated rules --------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
const DURATION = /^(?:\d+(?:ms|[smhdwy]))+$/;

function durationMs(text: string): number {
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(ms|[smhdwy])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

/** `text` (a Prometheus duration) divided by `factor`, in whole milliseconds (at least `minMs`, 1 ms). */
function compressDuration(text: string, factor: number, minMs = 1): string {
  if (!DURATION.test(text)) throw new Error(`not a Prometheus duration: ${text}`);
  const ms = durationMs(text);
  return ms === 0 ? '0s' : `${Math.max(minMs, 1, Math.round(ms / factor))}ms`;
}

/**
 * Divides every range selector (`[5m]`, `[1h:1m]`) of a PromQL expression by `factor`; a range never gets shorter
 * than `minRangeMs` (the runbook's diagnosis queries keep enough samples when scrapes are slow).
 */
export function compressExpr(expr: string, factor: number, minRangeMs = 1): string {
  return expr.replace(/\[((?:\d+(?:ms|[smhdwy]))+)(?::((?:\d+(?:ms|[smhdwy]))+))?\]/g, (_all, range: string, step?: string) =>
    step === undefined
      ? `[${compressDuration(range, factor, minRangeMs)}]`
      : `[${compressDuration(range, factor, minRangeMs)}:${compressDuration(step, factor)}]`,
  );
}

interface RuleFile {
  groups: { name: string; interval?: string; rules: { expr: string; for?: string; alert?: string; record?: string }[] }[];
}

/**
 * A history guard's divisor: the window's length in seconds after the history's age, written either as the recorded
 * `slo:history:seconds` or as `(time() - slo:history_start:timestamp)` (the alerts compute the age themselves since
 * the period figures moved to the slower metadata group).
 */
const HISTORY_GUARD =
  /((?:slo:history:seconds(?:\{[^}]*\})?|\(time\(\)\s*-\s*slo:history_start:timestamp(?:\{[^}]*\})?\))\s*\/\s*)(\d+(?:\.\d+)?)/g;

/**
 * Divides the window lengths an SLO alert's history guard compares its history with
 * (`clamp_max((time() - slo:history_start:timestamp{...}) / 3360, 1)`: seconds of history over the window's length in seconds), so
 * that in compressed time the guard still means "history shorter than the window counts as good traffic".
 */
export function compressHistoryGuards(expr: string, factor: number): string {
  return expr.replace(HISTORY_GUARD, (_all, head: string, seconds: string) => {
    const scaled = Number(seconds) / factor;
    return `${head}${Number.isInteger(scaled) ? scaled : scaled.toFixed(3)}`;
  });
}

/**
 * A generated rule file with every `for:`, group interval, range selector and history-guard window divided by
 * `factor`; with `groups`, only the groups whose name it matches; with `alerts`, only the alerting rules whose name
 * it matches (recording rules are all kept).
 */
export function compressRules(yamlText: string, factor: number, groups?: RegExp, alerts?: RegExp): string {
  const doc = parse(yamlText) as RuleFile;
  if (groups !== undefined) doc.groups = doc.groups.filter((g) => groups.test(g.name));
  if (alerts !== undefined) {
    for (const group of doc.groups) group.rules = group.rules.filter((r) => r.alert === undefined || alerts.test(r.alert));
    doc.groups = doc.groups.filter((g) => g.rules.length > 0);
  }
  for (const group of doc.groups) {
    if (group.interval !== undefined) group.interval = compressDuration(group.interval, factor);
    for (const rule of group.rules) {
      rule.expr = compressHistoryGuards(compressExpr(String(rule.expr), factor), factor);
      if (rule.for !== undefined) rule.for = compressDuration(rule.for, factor);
    }
  }
  return stringify(doc, { lineWidth: 0 });
}

/**
 * Prometheus scrapes every 3 s with a 3 s timeout: 1 s scrapes timed out on a loaded 2-core machine, turning
 * targets `up == 0` and breaking the rate windows the alerts read. The compressed 15 s windows hold five samples.
 */
const SCRAPE_SEC = 3;

// --- Prometheus ---------------------------------------------------------------------------------------------------

interface PromAlert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
}

/**
 * One scrape job of the drills' Prometheus: its name (the alerts' `job` label) and its instances' ops ports, listed
 * in the configuration, or a file of targets Prometheus discovers them from (`file_sd`), which a drill can empty.
 */
type ScrapeJob =
  | { readonly job: string; readonly ports: readonly number[] }
  | { readonly job: string; readonly targetsFile: string };

/** The targets file (`file_sd_configs`) that lists `ports` on 127.0.0.1 as targets, written whole (a rename). */
async function writeTargets(file: string, ports: readonly number[]): Promise<void> {
  const targets = ports.length === 0 ? [] : [{ targets: ports.map((p) => `127.0.0.1:${p}`) }];
  await writeFile(`${file}.next`, JSON.stringify(targets));
  await rename(`${file}.next`, file);
}

/**
 * A rule file a drills' Prometheus loads (from examples/retailflow/prometheus), which of its groups, and which of
 * its alerts.
 */
interface RuleSelection {
  readonly file: string;
  readonly groups?: RegExp;
  readonly alerts?: RegExp;
}

async function startPrometheus(
  dir: string,
  scrapeSec: number,
  jobs: readonly ScrapeJob[],
  compression: number,
  selections: readonly RuleSelection[] = [{ file: 'operational-alerts.yaml' }],
  /** Also scrape Prometheus itself as job `prometheus` (a job that is always there, beside those that go missing). */
  scrapeItself = false,
) {
  const rules: string[] = [];
  for (const selection of selections) {
    const text = await readFile(path.join(ROOT, 'examples/retailflow/prometheus', selection.file), 'utf8');
    await writeFile(path.join(dir, selection.file), compressRules(text, compression, selection.groups, selection.alerts));
    rules.push(path.join(dir, selection.file));
  }
  const check = await run('promtool', ['check', 'rules', ...rules]).catch((e: { stdout?: string; stderr?: string }) => {
    throw new Error(`promtool rejected the compressed rules:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  });
  void check;
  const port = await freePort();
  const config = {
    global: { scrape_interval: `${scrapeSec}s`, evaluation_interval: '1s', scrape_timeout: `${scrapeSec}s` },
    rule_files: rules,
    scrape_configs: [
      ...jobs.map((j) => ({
        job_name: j.job,
        authorization: { type: 'Bearer', credentials: KEYS.ops },
        ...('ports' in j
          ? { static_configs: [{ targets: j.ports.map((p) => `127.0.0.1:${p}`) }] }
          : { file_sd_configs: [{ files: [j.targetsFile], refresh_interval: '5s' }] }),
      })),
      ...(scrapeItself ? [{ job_name: 'prometheus', static_configs: [{ targets: [`127.0.0.1:${port}`] }] }] : []),
    ],
  };
  await writeFile(path.join(dir, 'prometheus.yml'), stringify(config));
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 30_000;
  while (!(await fetch(`${url}/-/ready`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || performance.now() > deadline) throw new Error(`Prometheus did not start:\n${err}`);
    await sleep(100);
  }
  return { url, child };
}

async function alerts(prometheusUrl: string): Promise<PromAlert[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/alerts`);
  const body = (await res.json()) as { data: { alerts: PromAlert[] } };
  return body.data.alerts;
}

const matches = (a: PromAlert, name: string, labels: Record<string, string>) =>
  a.labels.alertname === name && Object.entries(labels).every(([k, v]) => a.labels[k] === v);

/** Polls Prometheus until `want(firing)` holds; answers the seconds it took and the firing alert's labels. */
async function waitAlert(
  prometheusUrl: string,
  name: string,
  labels: Record<string, string>,
  firing: boolean,
  timeoutSec: number,
): Promise<{ afterSec: number | null; labels: Record<string, string> }> {
  const started = performance.now();
  for (;;) {
    const found = (await alerts(prometheusUrl).catch(() => [])).find((a) => matches(a, name, labels) && a.state === 'firing');
    if (firing === (found !== undefined)) return { afterSec: (performance.now() - started) / 1000, labels: found?.labels ?? labels };
    if (performance.now() - started > timeoutSec * 1000) return { afterSec: null, labels };
    await sleep(250);
  }
}

async function query(
  prometheusUrl: string,
  promql: string,
  atSec: number,
): Promise<{ ok: boolean; result: unknown; error?: string }> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}&time=${atSec.toFixed(3)}`);
  const body = (await res.json()) as { status: string; data?: { result: unknown }; error?: string };
  return body.status === 'success' ? { ok: true, result: body.data?.result } : { ok: false, result: null, error: body.error ?? 'failed' };
}

// --- running a runbook's commands ---------------------------------------------------------------------------------

interface Instance {
  readonly name: string;
  readonly port: number;
  readonly opsPort: number;
  readonly env: Record<string, string>;
  /** Where the instance's JSON log goes (the runbook's `$RETAILFLOW_LOG`). */
  readonly logFile: string;
  service: ServiceProcess;
}

/**
 * The values an engineer puts in the runbook's `export` line: this instance, its secrets, its JSON log (the
 * file the process's output goes to) and a tenant's key for the audit log.
 */
/** RetailFlow's log command in its service file (`logs.command`), which the runbooks pipe to jq. */
const LOGS_COMMAND = 'journalctl -u retailflow --since=-1h -o cat';

function shellEnv(instance: Instance, logFile: string, prometheusUrl: string): Record<string, string> {
  return {
    PROMETHEUS: prometheusUrl,
    RETAILFLOW: `http://127.0.0.1:${instance.port}`,
    RETAILFLOW_OPS: `http://127.0.0.1:${instance.opsPort}`,
    OPS_TOKEN: KEYS.ops,
    ADMIN_KEY: KEYS.admin,
    RETAILFLOW_LOG: logFile,
    TENANT_KEY: KEYS.acme,
  };
}

async function runShell(command: string, env: Record<string, string>): Promise<CommandRun> {
  // bash without rc files (stdin is not a socket either, which would make bash read ~/.bashrc): the command runs
  // as written in the runbook, with the variables of its export line.
  const child = spawn('bash', ['--norc', '--noprofile', '-o', 'pipefail', '-c', command], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(0, 8000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(0, 8000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  clearTimeout(timer);
  return {
    kind: 'sh',
    command,
    exitCode: code ?? 1,
    output: `${signal === null ? '' : `[killed by ${signal} after 20 s] `}${output}`.slice(0, 4000),
  };
}

/** One piece of evidence the diagnosis must show: a pattern in a command's output (or a query's result). */
export interface Evidence {
  readonly what: string;
  /** Which commands' outputs to look in (a pattern of the command). */
  readonly in: RegExp;
  /** What the output must show. */
  readonly shows: RegExp;
  /**
   * The command is expected to fail with one of these exit codes (curl's 7: connection refused, on a dead
   * instance; 1 from `curl | grep` under pipefail, grep finding nothing): that exit is the evidence, not a broken
   * runbook.
   */
  readonly exitCodes?: readonly number[];
}

/**
 * Checks a diagnosis: each piece of evidence must show in the output of a command it names (with one of its
 * expected exit codes, when it names some), and every command must succeed unless a piece of evidence expects its
 * failure. Answers one `ok`/`MISSING` line per piece of evidence, and why the diagnosis fails ('' when it passes).
 */
export function checkEvidence(
  evidence: readonly Evidence[],
  commands: readonly CommandRun[],
): { readonly lines: readonly string[]; readonly failure: string } {
  const lines = evidence.map((e) => {
    const hit = commands.find(
      (c) => e.in.test(c.command) && e.shows.test(c.output) && (e.exitCodes === undefined || e.exitCodes.includes(c.exitCode)),
    );
    return `${hit ? 'ok' : 'MISSING'}: ${e.what}`;
  });
  const broken = commands.filter(
    (c) => c.exitCode !== 0 && !evidence.some((e) => e.exitCodes?.includes(c.exitCode) === true && e.in.test(c.command)),
  );
  if (broken.length > 0) {
    const named = broken.map((c) => `\`${c.command}\` (exit ${c.exitCode}: ${c.output.slice(0, 120)})`).join('; ');
    return { lines, failure: `runbook commands failed: ${named}` };
  }
  const notShown = lines.filter((l) => l.startsWith('MISSING'));
  return { lines, failure: notShown.length > 0 ? `the diagnosis did not point at the cause: ${notShown.join('; ')}` : '' };
}

/** A drill's definition. */
interface DrillPlan {
  readonly alert: string;
  readonly fault: string;
  /** Labels that identify this drill's alert among the others. */
  readonly labels: (instance: Instance) => Record<string, string>;
  readonly inject: () => Promise<void>;
  readonly evidence: readonly Evidence[];
  /** The mitigation: which runbook command to run (its pattern and the values it is run with), or an action. */
  readonly mitigation:
    | {
        readonly command: RegExp;
        readonly rewrite?: (command: string) => string;
        readonly describe: string;
        /** What the command's answer must show (e.g. the discarded message's id, kept for the incident notes). */
        readonly answers?: { readonly what: string; readonly shows: RegExp };
      }
    | { readonly action: () => Promise<void>; readonly describe: string };
  /** Undoes what the drill left behind once the alert has resolved (the fault itself, a lever). */
  readonly cleanup?: () => Promise<void>;
  /** Most seconds from the fault to the all-clear (the compressed `for:` and windows, plus detection slack). */
  readonly budgetSec: number;
  /** The Prometheus that evaluates this drill's alert, when not the section's (operational alerts). */
  readonly prometheusUrl?: string;
}

async function drill(
  plan: DrillPlan,
  instance: Instance,
  prometheusUrl: string,
  compression: number,
  waitSec: number,
  log: (line: string) => void,
): Promise<Drill> {
  const commands: CommandRun[] = [];
  const evidence: string[] = [];
  let firedAfterSec: number | null = null;
  let resolvedAfterSec: number | null = null;
  let mitigationSec: number | null = null;
  let mitigation = plan.mitigation.describe;
  const fail = (failure: string): Drill => ({
    alert: plan.alert,
    fault: plan.fault,
    passed: false,
    failure,
    firedAfterSec,
    resolvedAfterSec,
    mitigationSec,
    evidence,
    mitigation,
    commands,
  });
  const labels = plan.labels(instance);
  try {
    const runbook: RunbookCommands = await readRunbook(ROOT, plan.alert);
    const env = shellEnv(instance, instance.logFile, prometheusUrl);
    const unknown = runbook.variables.filter((v) => !(v in env));
    if (unknown.length > 0) {
      return fail(`the runbook's export line sets ${unknown.join(', ')}, which the drill does not know`);
    }
    // Quiet before the fault: an alert already firing proves nothing.
    const before = (await alerts(prometheusUrl)).find((a) => matches(a, plan.alert, labels) && a.state === 'firing');
    if (before) return fail('the alert was already firing before the fault');

    log(`  ${plan.alert}: ${plan.fault}`);
    await plan.inject();
    const fired = await waitAlert(prometheusUrl, plan.alert, labels, true, waitSec);
    firedAfterSec = fired.afterSec;
    if (firedAfterSec === null) return fail(`the alert did not fire within ${waitSec} s of the fault`);
    log(`  ${plan.alert}: firing after ${firedAfterSec.toFixed(1)} s; running the runbook's diagnosis`);

    // Diagnosis: every query and every shell command of the runbook, placeholders filled from the alert's labels.
    // The queries read Prometheus as it was when the page went out, over windows of at least 10 scrapes: what the
    // dashboards showed the engineer who opened them then.
    const pagedAtSec = Date.now() / 1000;
    for (const q of runbook.diagnosisQueries) {
      const promql = compressExpr(fillPlaceholders(q, fired.labels, `runbooks/${plan.alert}.md`), compression, 10 * SCRAPE_SEC * 1000);
      const answer = await query(prometheusUrl, promql, pagedAtSec);
      commands.push({
        kind: 'promql',
        command: promql,
        exitCode: answer.ok ? 0 : 1,
        output: answer.ok ? JSON.stringify(answer.result).slice(0, 4000) : (answer.error ?? ''),
      });
    }
    for (const line of runbook.diagnosisShell) {
      // The trace id is the operator's pick from an exemplar on the dashboard: a command that needs one is shown,
      // not run. The service file's log command reads journald; the drill's instances log to a file, as the
      // runbook's RETAILFLOW_LOG says, so the drill reads that file the same way.
      if (line.includes('<trace_id>')) {
        commands.push({ kind: 'sh', command: line, exitCode: 0, output: 'not run: needs the trace id picked from an exemplar' });
        continue;
      }
      const local = line.replaceAll(LOGS_COMMAND, 'cat "$RETAILFLOW_LOG"');
      commands.push(await runShell(fillPlaceholders(local, fired.labels, `runbooks/${plan.alert}.md`), env));
    }
    const checked = checkEvidence(plan.evidence, commands);
    evidence.push(...checked.lines);
    if (checked.failure !== '') return fail(checked.failure);

    // Mitigation: the runbook's own command (or the step it describes, when it gives no command). The time to
    // resolve counts from when it is done (a restart takes the instance's start-up).
    const mitigationStarted = performance.now();
    if ('command' in plan.mitigation) {
      const pick = plan.mitigation;
      const line = runbook.mitigationShell.find((c) => pick.command.test(c));
      if (line === undefined) return fail(`the runbook's mitigation has no command matching ${String(pick.command)}`);
      const filled = fillPlaceholders(line, fired.labels, `runbooks/${plan.alert}.md`);
      const final = pick.rewrite ? pick.rewrite(filled) : filled;
      mitigation = `${plan.mitigation.describe}: ${final}`;
      const result = await runShell(final, env);
      commands.push(result);
      if (result.exitCode !== 0) return fail(`the mitigation command failed (exit ${result.exitCode}): ${result.output.slice(0, 200)}`);
      if (pick.answers !== undefined) {
        const shown = pick.answers.shows.test(result.output);
        evidence.push(`${shown ? 'ok' : 'MISSING'}: ${pick.answers.what} (the mitigation's answer)`);
        if (!shown) return fail(`the mitigation's answer did not show ${pick.answers.what}: ${result.output.slice(0, 200)}`);
      }
    } else {
      await plan.mitigation.action();
    }
    const mitigatedAt = performance.now();
    mitigationSec = (mitigatedAt - mitigationStarted) / 1000;
    log(`  ${plan.alert}: mitigated (${plan.mitigation.describe}); waiting for the alert to resolve`);
    const resolved = await waitAlert(prometheusUrl, plan.alert, labels, false, waitSec);
    resolvedAfterSec = resolved.afterSec === null ? null : (performance.now() - mitigatedAt) / 1000;
    if (resolved.afterSec === null) return fail(`the alert still fired ${waitSec} s after the mitigation`);
    log(`  ${plan.alert}: resolved ${resolvedAfterSec!.toFixed(1)} s after the mitigation`);
    return {
      alert: plan.alert,
      fault: plan.fault,
      passed: true,
      failure: '',
      firedAfterSec,
      resolvedAfterSec,
      mitigationSec,
      evidence,
      mitigation,
      commands,
    };
  } catch (error) {
    return fail(`the drill broke: ${(error as Error).message}`);
  } finally {
    await plan.cleanup?.().catch(() => undefined);
  }
}

// --- faults -------------------------------------------------------------------------------------------------------

/** A TCP proxy in front of RabbitMQ that the drill can cut (every connection dropped, new ones refused) and restore. */
async function tcpProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    async close() {
      this.cut();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * One fault several drills share (one cause, several alerts): the first drill to inject it does, the others find it
 * injected; it is undone once every drill sharing it has arrived at its mitigation (or given up), so that no drill's
 * alert resolves before that drill has diagnosed it. `mitigate` waits for the others, then undoes the fault once.
 */
export function sharedFault(drills: readonly string[], inject: () => Promise<void>, undo: () => Promise<void>) {
  const arrived = new Set<string>();
  let injected: Promise<void> | undefined;
  let undone: Promise<void> | undefined;
  let release: () => void = () => undefined;
  const everyone = new Promise<void>((resolve) => (release = resolve));
  const arrive = (drill: string) => {
    if (!drills.includes(drill)) throw new Error(`drill ${drill} does not share this fault (${drills.join(', ')} do)`);
    arrived.add(drill);
    if (arrived.size === drills.length) release();
  };
  return {
    inject: (): Promise<void> => (injected ??= inject()),
    /** `drill` is ready for the mitigation: waits until every drill is, then undoes the fault (once). */
    async mitigate(drill: string): Promise<void> {
      arrive(drill);
      await everyone;
      await (undone ??= undo());
    },
    /** `drill` is done (passed or not): once every drill is, the fault is undone if it still holds. */
    async leave(drill: string): Promise<void> {
      arrive(drill);
      if (arrived.size === drills.length && injected !== undefined) await (undone ??= undo());
    },
  };
}

/**
 * Steady requests until stopped: checkouts of `key`, reads of one catalog page (`read`: the catalog cache serves
 * it and reads the store once every 5 s), or catalog pages of every size in turn (`browse`: 40 pages, each cached
 * apart, so at a few reads a second nearly every read reaches the store, as shoppers browsing many pages do).
 */
function steady(url: () => string, key: string, rate: number, kind: 'checkout' | 'read' | 'browse') {
  let running = true;
  const pending = new Set<Promise<unknown>>();
  const statuses: Record<number, number> = {};
  const done = (async () => {
    const started = performance.now();
    let sent = 0;
    while (running) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (sent < due) {
        sent++;
        const target =
          kind === 'checkout' ? '/api/v1/orders' : `/api/v1/products?limit=${kind === 'read' ? 5 : 1 + (sent % 40)}`;
        const p = fetch(
          `${url()}${target}`,
          kind === 'checkout'
            ? {
                method: 'POST',
                headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
                body: JSON.stringify({ items: [{ productId: 'sku-filter', quantity: 1 }] }),
                signal: AbortSignal.timeout(10_000),
              }
            : { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(10_000) },
        ).then(
          async (r) => {
            await r.arrayBuffer();
            statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          },
          () => {
            statuses[0] = (statuses[0] ?? 0) + 1;
          },
        );
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      await sleep(20);
    }
    await Promise.allSettled([...pending]);
  })();
  return {
    statuses,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Publishes one event to RetailFlow's exchange on `amqpUrl`, as another producer would, and waits for the confirm. */
async function publishEvent(amqpUrl: string, event: Record<string, unknown> & { type: string }): Promise<void> {
  const connection = await amqplib.connect(amqpUrl);
  try {
    const channel = await connection.createConfirmChannel();
    channel.publish('retailflow.events', event.type, Buffer.from(JSON.stringify(event)), {
      persistent: true,
      contentType: 'application/json',
      messageId: String(event.id),
    });
    await channel.waitForConfirms();
  } finally {
    await connection.close();
  }
}

// --- the section --------------------------------------------------------------------------------------------------

/**
 * Drills only the full form runs. The freshness page's relay outage must outlast the SLO's 30 s (a threshold, not
 * compressed) before any event is late, and the late events then keep the page's 6x branch (5h36m and 28m) burning
 * until its compressed 28-minute window forgets them: about two and a half minutes from the fault to the all-clear.
 */
export const LONG_DRILLS: readonly string[] = ['RetailflowOrderEventFreshnessBurnRatePage'];

async function database(base: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The Redis database (index) the drills' instances use: see {@link redisDatabase}. */
const DRILLS_REDIS_DB = 7;

/** `url` pointing at Redis database `index` (ioredis reads it from the path). */
function redisDatabase(url: string, index: number): string {
  const u = new URL(url);
  u.pathname = `/${index}`;
  return u.toString();
}

async function dropDatabase(base: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Runs the drills side by side and answers what each showed. */
export async function drills(opts: DrillsOptions): Promise<DrillsResult> {
  const compression = opts.compression ?? 20;
  const waitSec = opts.waitSec ?? 150;
  const scrapeSec = SCRAPE_SEC;
  const { log } = opts;
  const run_ = `${process.pid}_${Date.now().toString(36)}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'ballast-drills-'));
  const baseDb = opts.env.DATABASE_URL;
  const amqp = opts.env.AMQP_URL === undefined ? undefined : new URL(opts.env.AMQP_URL);
  const vhost = `ballast-drills-${run_}`;
  // The dead-letter drill's instance has a virtual host of its own: its fulfilment queue (and dead-letter queue)
  // is then its own, as in a deployment of its own, and the poison message reaches no other drill's consumer.
  const dlqVhost = `ballast-drills-dlq-${run_}`;
  const databases: string[] = [];
  const instances: Instance[] = [];
  let prometheus: ChildProcess | undefined;
  let sloPrometheus: ChildProcess | undefined;
  let pagesPrometheus: ChildProcess | undefined;
  let discoveryPrometheus: ChildProcess | undefined;
  let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
  const loads: { stop(): Promise<void> }[] = [];
  try {
    if (amqp !== undefined) {
      await run('rabbitmqctl', ['add_vhost', vhost]);
      await run('rabbitmqctl', ['set_permissions', '-p', vhost, amqp.username || 'guest', '.*', '.*', '.*']);
      await run('rabbitmqctl', ['add_vhost', dlqVhost]);
      await run('rabbitmqctl', ['set_permissions', '-p', dlqVhost, amqp.username || 'guest', '.*', '.*', '.*']);
      proxy = await tcpProxy(Number(amqp.port || 5672));
    }
    const amqpUrl = (port: string, host = vhost) => {
      if (amqp === undefined) return {};
      const u = new URL(amqp.toString());
      u.port = port;
      u.pathname = `/${encodeURIComponent(host)}`;
      return { AMQP_URL: u.toString() };
    };
    // `slo`: the catalog and freshness pages' instance, scraped by a Prometheus of its own only (their SLIs sum
    // every instance of the service, and its relay stall would fire the broker drill's job-wide outbox alert).
    const names = ['payments', 'broker', 'tenant', 'down', 'dlq', 'relay', 'slo'] as const;
    // The job the instance is scraped as. The dead-letter and relay drills' alerts aggregate by job (every instance
    // of a deployment shares the outbox and the queues): their instances, each on a database and queues of its own,
    // are scraped as deployments of their own, so no other drill's backlog or publishing hides or fakes theirs.
    const jobOf = (name: string) => (name === 'dlq' || name === 'relay' ? `retailflow-${name}` : 'retailflow');
    const specs = await Promise.all(
      names.map(async (name) => {
        const db = `ballast_drill_${name}_${run_}`;
        databases.push(db);
        return {
          name,
          logFile: path.join(dir, `${name}.log`),
          port: await freePort(),
          opsPort: await freePort(),
          env: {
            ...opts.env,
            ...(baseDb === undefined ? {} : { DATABASE_URL: await database(baseDb, db) }),
            // A Redis database of the drills' own: rate-limit counters are kept per tenant across every instance
            // on one Redis, so the sections that run beside the drills (main.ts) must not count toward the tenant
            // drill's plan, nor its flood toward theirs.
            ...(opts.env.REDIS_URL === undefined ? {} : { REDIS_URL: redisDatabase(opts.env.REDIS_URL, DRILLS_REDIS_DB) }),
            ...amqpUrl(name === 'broker' && proxy ? String(proxy.port) : amqp?.port || '5672', name === 'dlq' ? dlqVhost : vhost),
            // The tenant drill floods a free-plan tenant past its plan: real limits on that instance.
            ...(name === 'tenant' ? { FREE_REQUESTS_PER_MINUTE: '120' } : {}),
            // The critical-shedding drill (on this instance once it is back up): one tenant's checkouts may fill the
            // inventory bulkhead (no per-tenant share), and a reservation waits up to a second for a slot, so a slow
            // database fills the queue and the door sheds the checkouts that would wait behind it.
            ...(name === 'down' ? { TENANT_INVENTORY_SHARE: '1', INVENTORY_QUEUE_TIMEOUT_MS: '1000' } : {}),
          },
        };
      }),
    );
    const services = await Promise.allSettled(
      specs.map((spec) => startService(spec.env, {
          port: spec.port,
          opsPort: spec.opsPort,
          startTimeoutMs: 120_000,
          logFile: spec.logFile,
        })),
    );
    services.forEach((s, k) => {
      if (s.status === 'fulfilled') instances.push({ ...specs[k]!, service: s.value });
    });
    const failedStart = services.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failedStart) throw failedStart.reason;
    const byName = (n: (typeof names)[number]) => instances.find((i) => i.name === n)!;
    const operational = instances.filter((i) => i.name !== 'slo');
    const jobs = [...new Set(operational.map((i) => jobOf(i.name)))].map((job) => ({
      job,
      ports: operational.filter((i) => jobOf(i.name) === job).map((i) => i.opsPort),
    }));
    const started = await startPrometheus(dir, scrapeSec, jobs, compression);
    prometheus = started.child;
    const promUrl = started.url;
    // The checkout page reads the SLO rules, whose SLI sums every instance of the service (no job): a Prometheus of
    // its own scrapes only the relay drill's instance, where checkouts flow all along, so that no other drill's
    // failing checkouts count (the breaker drill's would page it).
    const sloDir = path.join(dir, 'slo');
    await mkdir(sloDir);
    const sloStarted = await startPrometheus(
      sloDir,
      scrapeSec,
      [{ job: jobOf('relay'), ports: [byName('relay').opsPort] }],
      compression,
      [{ file: 'slo-rules.yaml', groups: /^slo-retailflow-checkout-availability-/ }],
    );
    sloPrometheus = sloStarted.child;
    // The catalog and freshness pages: the rules of those two SLOs, scraping the `slo` instance alone.
    const sloInstance = byName('slo');
    const pagesDir = path.join(dir, 'pages');
    await mkdir(pagesDir);
    const pages = await startPrometheus(
      pagesDir,
      scrapeSec,
      [{ job: 'retailflow', ports: [sloInstance.opsPort] }],
      compression,
      [{ file: 'slo-rules.yaml', groups: /^slo-retailflow-(?:catalog-latency|order-event-freshness)-/ }],
    );
    pagesPrometheus = pages.child;
    // The missing-target and no-data alerts: a Prometheus that discovers job `retailflow` from a targets file
    // (file_sd, as Kubernetes or Consul discovery would hand it targets), listing the relay drill's instance, where
    // checkouts, catalog reads and published events feed all three SLIs all along. It records the SLIs (the SLO
    // rules' recording rules) and evaluates the operational alerts that watch for them and for the job's targets.
    const discoveryDir = path.join(dir, 'discovery');
    await mkdir(discoveryDir);
    const targetsFile = path.join(discoveryDir, 'retailflow.targets.json');
    await writeTargets(targetsFile, [byName('relay').opsPort]);
    const discovery = await startPrometheus(
      discoveryDir,
      scrapeSec,
      [{ job: 'retailflow', targetsFile }],
      compression,
      [
        { file: 'operational-alerts.yaml', alerts: /^(?:BallastTargetMissing|Retailflow\w+SliNoData)$/ },
        // Recording rules only: the SLIs the no-data alerts look for.
        { file: 'slo-rules.yaml', groups: /-sli-and-alerts$/, alerts: /^$/ },
      ],
      true,
    );
    discoveryPrometheus = discovery.child;
    log(`  Prometheus on ${promUrl} (rules compressed ${compression}x), ${instances.length} RetailFlow instances, three more Prometheus servers for the SLO alerts`);
    // A few scrapes of healthy traffic first, so rates and windows have a before.
    for (const i of instances) loads.push(steady(() => i.service.url, KEYS.acme, 1, 'read'));
    // The relay drill's instance takes orders all along: its outbox lag histogram has a before, and its events
    // keep arriving while the relay is stuck.
    const relay = byName('relay');
    loads.push(steady(() => relay.service.url, KEYS.acme, 2, 'checkout'));
    // The `slo` instance takes orders (the freshness SLI's events) and shoppers browse its catalog pages; the
    // catalog page's fault is a slow database (every store call this much slower).
    const catalog = { latencyMs: 500, browseRate: 4 };
    loads.push(steady(() => sloInstance.service.url, KEYS.acme, 2, 'checkout'));
    loads.push(steady(() => sloInstance.service.url, KEYS.acme, catalog.browseRate, 'browse'));
    await sleep(5000);

    const payments = byName('payments');
    const broker = byName('broker');
    const tenant = byName('tenant');
    const down = byName('down');
    const knobs = (body: Record<string, unknown>) =>
      fetch(`${payments.service.paymentUrl}/admin/knobs`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${KEYS.ops}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => {
        if (!r.ok) throw new Error(`PUT /admin/knobs answered ${r.status}`);
      });
    const instanceLabel = (i: Instance) => ({ instance: `127.0.0.1:${i.opsPort}` });
    const dlq = byName('dlq');
    // Held busy this long every second, the loop's p99 delay is above the alert's 200 ms in every 3 s scrape: the
    // delay monitor samples every 10 ms, so three long delays must be more than 1% of a scrape's samples (400 ms
    // bursts left the p99 at 14 ms in one scrape of three, 600 ms never did).
    const burnMs = 600;
    const poisonId = randomUUID();
    const chaos = (i: Instance, body: Record<string, unknown>) =>
      fetch(`${i.service.opsUrl}/admin/chaos`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => {
        if (!r.ok) throw new Error(`POST /admin/chaos answered ${r.status}`);
      });
    const flood = { rate: 6 };
    // The freshness page's relay outage: longer than the SLO's 30 s, so the events of its first seconds go out late.
    // 40 s: the relay's next attempt comes up to 10 s after it (its outage backoff), so 10 to 20 s of events are
    // late, past the 6 s that keep the 6x branch burning (at 35 s the page resolved either way, by chance).
    const relayStallSec = 40;
    // The discovery drills' one fault: job retailflow's target drops out of discovery, and every SLI with it.
    const sliNoData = [
      ['checkout-availability', 'RetailflowCheckoutAvailabilitySliNoData'],
      ['catalog-latency', 'RetailflowCatalogLatencySliNoData'],
      ['order-event-freshness', 'RetailflowOrderEventFreshnessSliNoData'],
    ] as const;
    const lostTarget = sharedFault(
      ['BallastTargetMissing', ...sliNoData.map(([, alert]) => alert)],
      async () => {
        // The fault must take away data that was there: every SLI recorded, the target scraped.
        const deadline = performance.now() + 60_000;
        for (;;) {
          const answer = await query(discovery.url, 'count(slo:sli_error:ratio{window="4m40s"}) + count(up{job="retailflow"} == 1)', Date.now() / 1000);
          const value = (answer.result as { value: [number, string] }[] | null)?.[0]?.value[1];
          if (value === String(sliNoData.length + 1)) break;
          if (performance.now() > deadline) throw new Error(`the SLIs and the target were not all there before the fault (${value ?? 'none'} of ${sliNoData.length + 1})`);
          await sleep(500);
        }
        await writeTargets(targetsFile, []);
      },
      () => writeTargets(targetsFile, [byName('relay').opsPort]),
    );
    const restoreTarget =
      'restore the target to discovery (the runbook: "restore the scrape configuration or the labels discovery selects on"; the change is the deployment\'s, no command), once the four drills of this fault have diagnosed it';
    // The critical-shedding drill's checkouts: stopped once its alert has resolved.
    let brownoutCheckouts: { stop(): Promise<void> } | undefined;
    const brownout = { latencyMs: 500, checkoutsPerSec: 20 };

    // [plan, its instance, the drill it follows on that instance (run after it, not beside it)]
    const allPlans: [DrillPlan, Instance, string?][] = [
      [
        {
          alert: 'BallastCircuitBreakerStuckOpen',
          fault: 'the payment provider answers every charge 503 (the simulator is down)',
          labels: (i) => ({ ...instanceLabel(i), policy: 'payment-breaker' }),
          inject: async () => {
            loads.push(steady(() => payments.service.url, KEYS.acme, 2, 'checkout'));
            await knobs({ down: true });
          },
          evidence: [
            // Stuck open is open, then half-open for a probe that fails, then open again: the scrape finds either.
            {
              what: 'the payment breaker is open (or half-open, probing)',
              in: /ballast_circuit_breaker_state/,
              shows: /policy="payment-breaker"[^}]*state="(?:open|half-open)"[^}]*\}\s+1\b/,
            },
            { what: 'no chaos experiment is on (the provider itself fails)', in: /admin\/chaos/, shows: /"payments":\{"enabled":false/ },
            {
              what: 'the failed-checkout log names payment-unavailable and the open breaker',
              in: /checkout failed/,
              shows: /"reason":"payment-unavailable","detail":"unavailable: /,
            },
            { what: 'the breaker reopening is payment-breaker', in: /half-open/, shows: /"policy":"payment-breaker"/ },
            { what: 'the outbound errors name the payment provider', in: /http_client_request_duration_seconds_count/, shows: new RegExp(`"server_address":"127\\.0\\.0\\.1"|${new URL(payments.service.paymentUrl).port}`) },
          ],
          mitigation: { command: /"action":"isolate"/, describe: "isolate the payment breaker (the runbook's lever)" },
          cleanup: async () => {
            await knobs({ down: false });
            await fetch(`${payments.service.opsUrl}/admin/breakers`, {
              method: 'POST',
              headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
              body: JSON.stringify({ name: 'payment-breaker', action: 'reset' }),
            });
          },
          // Three half-open probes 10 s apart, the compressed `for`, and the compressed 15-minute window to forget.
          budgetSec: 40 + 900 / compression + 120 / compression + 20,
        },
        payments,
      ],
      [
        {
          alert: 'RetailFlowOutboxEventsWaiting',
          fault: 'RabbitMQ unreachable from the instance (its TCP proxy cut) while checkouts go on',
          labels: () => ({ job: 'retailflow' }),
          inject: () => {
            loads.push(steady(() => broker.service.url, KEYS.acme, 2, 'checkout'));
            proxy?.cut();
            return Promise.resolve();
          },
          evidence: [
            { what: '/readyz reports the broker check failing', in: /readyz/, shows: /"broker":\{"ok":false/ },
            { what: 'events wait in the outbox', in: /retailflow_outbox/, shows: /^retailflow_outbox_depth(\{[^}]*\})?\s+[1-9]/m },
            { what: 'no chaos experiment is on', in: /admin\/chaos/, shows: /"payments":\{"enabled":false/ },
          ],
          mitigation: {
            action: () => Promise.resolve(proxy?.restore()),
            describe: 'restore the broker (the runbook: "Restore the broker")',
          },
          cleanup: () => Promise.resolve(proxy?.restore()),
          // 20 s of age, then the relay's next attempt (at most 10 s of backoff) and a scrape.
          budgetSec: 20 + 10 + 15 + 20,
        },
        broker,
      ],
      [
        {
          alert: 'BallastTenantRateLimitSpike',
          fault: `tenant globex (free plan, 120 requests a minute) sends ${flood.rate} requests a second: a launch it did not announce`,
          labels: () => ({ tenant: 'globex' }),
          inject: () => {
            loads.push(steady(() => tenant.service.url, KEYS.globex, flood.rate, 'read'));
            return Promise.resolve();
          },
          evidence: [
            { what: 'the top rate-limited tenant is globex', in: /topk/, shows: /"tenant":"globex"/ },
            { what: "globex's requests are answered 429", in: /tenant="globex"/, shows: /"http_response_status_code":"429"/ },
            { what: 'the tenant limiter is refusing', in: /ballast_rate_limit_decisions_total/, shows: /decision="limited"[^\n]*\s[1-9]/ },
          ],
          // The load is legitimate: raise globex's limit above its rate with the runbook's lever (the example
          // value 60 is the one an engineer changes).
          mitigation: {
            command: /\/admin\/tenants\/<tenant>\/limit|\/admin\/tenants\/globex\/limit/,
            rewrite: (c) => c.replace('"requestsPerMinute":60', `"requestsPerMinute":${flood.rate * 60 * 2}`),
            describe: "raise globex's limit to twice its rate (the runbook's tenant-limit lever)",
          },
          // The compressed `for` (5 m) after the compressed 5-minute rate window sees the 429s, and again to forget.
          budgetSec: 2 * (300 / compression) + 300 / compression + 30,
        },
        tenant,
      ],
      [
        {
          alert: 'BallastTargetDown',
          fault: 'the instance is killed (SIGKILL): nothing answers on its ports',
          labels: (i) => instanceLabel(i),
          inject: async () => down.service.kill(),
          evidence: [
            { what: '/readyz: connection refused (curl exit 7)', in: /readyz/, shows: /^$/, exitCodes: [7] },
            { what: '/admin/chaos: connection refused (curl exit 7)', in: /admin\/chaos/, shows: /^$/, exitCodes: [7] },
            // `curl | grep` under pipefail: the pipeline fails with grep's 1 (nothing read) after curl's 7.
            { what: '/metrics: nothing answers', in: /\/metrics/, shows: /^$/, exitCodes: [7, 1] },
            { what: 'Prometheus names the instance down', in: /== 0/, shows: new RegExp(`"instance":"127\\.0\\.0\\.1:${down.opsPort}"`) },
          ],
          mitigation: {
            action: async () => {
              down.service = await startService(down.env, {
                port: down.port,
                opsPort: down.opsPort,
                startTimeoutMs: 90_000,
                logFile: down.logFile,
              });
            },
            describe: 'restart the instance (the runbook: "Restart the instance"; the command is the process manager\'s)',
          },
          budgetSec: 120 / compression + 30 + 30,
        },
        down,
      ],
      [
        {
          alert: 'BallastCriticalTrafficShed',
          fault: `every store call takes ${brownout.latencyMs} ms (storage chaos: a database brownout) while a tenant checks out ${brownout.checkoutsPerSec} times a second: reservations fill the inventory bulkhead and its queue, and the door sheds the checkouts that would wait behind them`,
          labels: (i) => ({ ...instanceLabel(i), policy: 'ingress' }),
          inject: async () => {
            await chaos(down, { target: 'storage', enabled: true, latencyMs: brownout.latencyMs });
            brownoutCheckouts = steady(() => down.service.url, KEYS.acme, brownout.checkoutsPerSec, 'checkout');
            loads.push(brownoutCheckouts); // stopped at the end of the section too, should the drill fail
          },
          evidence: [
            { what: 'storage chaos is on', in: /admin\/chaos/, shows: /"storage":\{"enabled":true/ },
            {
              what: 'the limiter counts critical requests shed',
              in: /ballast_load_shed_total\|ballast_concurrency_limit/,
              shows: /^ballast_load_shed_total\{[^}]*priority="critical"[^}]*\}\s+[1-9]/m,
            },
            {
              what: "Prometheus shows the inventory bulkhead's queue taken",
              in: /^sum by \(policy\) \(ballast_bulkhead_queued\)/,
              shows: /"policy":"inventory-bulkhead"\},"value":\[[\d.]+,"[1-9]/,
            },
          ],
          mitigation: { command: /"target":"storage","enabled":false/, describe: "switch storage chaos off (the runbook's first lever)" },
          cleanup: async () => {
            await chaos(down, { target: 'storage', enabled: false });
            await brownoutCheckouts?.stop();
          },
          // The compressed 5-minute window filling with sheds and the compressed `for`; then the window emptying of
          // them, plus a scrape and an evaluation each way.
          budgetSec: 2 * (300 / compression) + 300 / compression + 30,
        },
        down,
        // On the killed instance once it is back: a seventh instance would cost more start-up than the drill itself.
        'BallastTargetDown',
      ],
      [
        {
          alert: 'RetailFlowDeadLetterQueueNotEmpty',
          fault:
            'another producer publishes an order.confirmed event at schema version 99, which the fulfilment consumer does not know: a poison message',
          labels: () => ({ job: jobOf('dlq'), queue: 'retailflow.fulfilment' }),
          inject: async () => {
            if (amqp === undefined) throw new Error('the dead-letter drill needs RabbitMQ (AMQP_URL)');
            await publishEvent(String(amqpUrl(amqp.port || '5672', dlqVhost).AMQP_URL), {
              id: poisonId,
              type: 'order.confirmed',
              schemaVersion: 99,
              tenantId: 'acme',
              aggregateType: 'order',
              aggregateId: poisonId,
              occurredAt: Date.now(),
              payload: { order: { id: poisonId }, confirmedAt: new Date().toISOString() },
            });
          },
          evidence: [
            {
              what: 'the fulfilment dead-letter queue holds one message',
              in: /retailflow_dlq/,
              shows: /^retailflow_dlq_depth\{[^}]*queue="retailflow\.fulfilment"[^}]*\}\s+1\b/m,
            },
            {
              what: 'Prometheus counts it in queue retailflow.fulfilment',
              in: /^max by \(queue\) \(retailflow_dlq_depth/,
              shows: /"queue":"retailflow\.fulfilment"\},"value":\[[\d.]+,"1"\]/,
            },
            {
              what: 'the log names the poison event, its version 99 and the consumer\'s reason',
              in: /dead-lettered/,
              shows: new RegExp(`event ${poisonId} \\(order\\.confirmed v99\\) dead-lettered by retailflow\\.fulfilment","reason":"[^"]*99`),
            },
          ],
          // A version no consumer knows will never be accepted: the runbook says discard it, its body on record.
          mitigation: {
            command: /"action":"discard"/,
            describe: "discard the poison message (the runbook's dead-letters lever), its body kept in the answer and the audit log",
            answers: { what: 'the discarded event id and body', shows: new RegExp(`"eventId":"${poisonId}".*"body":".*schemaVersion.{0,4}:99`) },
          },
          // The compressed `for` (5 m), a scrape and an evaluation to see the message, and a scrape to see it gone.
          budgetSec: 300 / compression + 15 + 15,
        },
        dlq,
      ],
      [
        {
          alert: 'RetailFlowOutboxLagHigh',
          fault: 'the outbox relay cannot read its table (relay chaos: every claim fails) while checkouts go on',
          labels: () => ({ job: jobOf('relay') }),
          inject: () => chaos(relay, { target: 'relay', enabled: true, errorRate: 1 }),
          evidence: [
            { what: 'relay chaos is on', in: /admin\/chaos/, shows: /"relay":\{"enabled":true/ },
            { what: 'events wait in the outbox', in: /retailflow_outbox/, shows: /^retailflow_outbox_depth(\{[^}]*\})?\s+[1-9]/m },
            { what: 'the broker is reachable: the relay, not the broker, is stuck', in: /readyz/, shows: /"broker":\{"ok":true/ },
            { what: "the relay's errors are in the log", in: /outbox relay/, shows: /"msg":"outbox relay cannot reach the database"/ },
            { what: 'Prometheus sees the events waiting', in: /^max by \(instance\) \(retailflow_outbox_depth/, shows: /"value":\[[\d.]+,"[1-9]\d*"\]/ },
          ],
          mitigation: { command: /"target":"relay","enabled":false/, describe: "switch relay chaos off (the runbook's first lever)" },
          cleanup: () => chaos(relay, { target: 'relay', enabled: false }),
          // The compressed 5-minute window to empty of publishes and the compressed `for`; then the relay's next
          // attempt (at most 10 s of backoff), and the compressed window to forget the late events' lag.
          budgetSec: 2 * (300 / compression) + 10 + 10 + 300 / compression + 15,
        },
        relay,
      ],
      [
        {
          alert: 'BallastEventLoopSaturated',
          fault: `the instance's event loop is held busy ${burnMs} ms of every second (event-loop chaos: CPU-bound synchronous work)`,
          labels: (i) => instanceLabel(i),
          inject: () => chaos(dlq, { target: 'eventloop', enabled: true, latencyMs: burnMs }),
          evidence: [
            { what: 'event-loop chaos is on', in: /admin\/chaos/, shows: new RegExp(`"eventloop":\\{"enabled":true,"latencyMs":${burnMs}`) },
            {
              what: "Prometheus shows this instance's event-loop delay p99 above 200 ms",
              in: /^max by \(instance\) \(nodejs_eventloop_lag_p99_seconds/,
              shows: new RegExp(`"instance":"127\\.0\\.0\\.1:${dlq.opsPort}"\\},"value":\\[[\\d.]+,"(?:0\\.[2-9]|[1-9])`),
            },
          ],
          mitigation: { command: /"target":"eventloop","enabled":false/, describe: "switch event-loop chaos off (the runbook's first lever)" },
          cleanup: () => chaos(dlq, { target: 'eventloop', enabled: false }),
          // The compressed `for` (5 m) after the first slow scrape, and a scrape to see the delay gone.
          budgetSec: 300 / compression + 15 + 15,
        },
        dlq,
        // On the dead-letter drill's instance once that drill is done: a seventh instance would cost more start-up
        // than the drill itself.
        'RetailFlowDeadLetterQueueNotEmpty',
      ],
      [
        {
          alert: 'RetailflowCheckoutAvailabilityBurnRatePage',
          fault: 'every payment call fails (payments chaos at 100%): every checkout answers 503',
          labels: () => ({ slo: 'checkout-availability', severity: 'page' }),
          inject: () => chaos(relay, { target: 'payments', enabled: true, errorRate: 1 }),
          evidence: [
            { what: 'payments chaos is on', in: /admin\/chaos/, shows: /"payments":\{"enabled":true/ },
            {
              what: 'the failed checkouts say payment-unavailable',
              in: /select\(\.msg == "checkout failed"\) \| \.reason/,
              shows: /^\s*\d+ payment-unavailable$/m,
            },
            {
              what: 'the failed-checkout log names the injected failure or the breaker it opened',
              in: /checkout failed"\) \| \{time/,
              shows: /Chaos \\"payments-chaos-error\\" injected a failure|Circuit breaker \\"payment-breaker\\" is open/,
            },
          ],
          mitigation: { command: /"target":"payments","enabled":false/, describe: "switch payments chaos off (the runbook's first lever)" },
          cleanup: () => chaos(relay, { target: 'payments', enabled: false }),
          // The compressed 4m40s window filling with failures (the 56-minute one, its history guard compressed
          // alike, is over the page's threshold sooner); then the breaker's 10 s half-open wait and the short window
          // emptying of failures, plus a scrape and an evaluation each way.
          budgetSec: 280 / compression + 15 + 10 + 280 / compression + 15,
          prometheusUrl: sloStarted.url,
        },
        relay,
        // On the relay drill's instance once that drill is done: its checkouts flow all along, the SLI the page reads.
        'RetailFlowOutboxLagHigh',
      ],
      [
        {
          alert: 'BallastTargetMissing',
          fault:
            "job retailflow's only target drops out of Prometheus's service discovery (its targets file emptied, as a changed selector or relabelling would leave it): the instance runs on, unscraped",
          labels: () => ({ job: 'retailflow' }),
          inject: lostTarget.inject,
          evidence: [
            { what: 'Prometheus has no target of job retailflow', in: /^up\{job="retailflow"\}$/, shows: /^\[\]$/ },
            {
              what: 'Prometheus scrapes its other jobs, not retailflow',
              in: /^count by \(job\) \(up\)$/,
              shows: /^(?![\s\S]*"job":"retailflow")[\s\S]*"job":"prometheus"/,
            },
            { what: 'the instance itself runs and answers /readyz', in: /readyz/, shows: /"status":"(?:ready|degraded)"/ },
            { what: "job retailflow is in Prometheus's configuration", in: /status\/config/, shows: /job_name: retailflow/ },
            {
              what: 'discovery found no target of it, active or dropped (discovery, not the scrape)',
              in: /api\/v1\/targets/,
              shows: /\{"active":\[\],"dropped":\[\]\}/,
            },
          ],
          mitigation: { action: () => lostTarget.mitigate('BallastTargetMissing'), describe: restoreTarget },
          cleanup: () => lostTarget.leave('BallastTargetMissing'),
          // The compressed `for` (5 m) after the target's series go stale, a scrape and an evaluation each way.
          budgetSec: 300 / compression + 15 + 15,
          prometheusUrl: discovery.url,
        },
        relay,
      ],
      ...sliNoData.map(([slo, alert]): [DrillPlan, Instance] => [
        {
          alert,
          fault: `the same lost target (one fault, four alerts): nothing feeds the ${slo} SLI any more`,
          labels: () => ({ slo }),
          inject: lostTarget.inject,
          evidence: [
            {
              what: `the recorded error ratio of ${slo} is absent`,
              in: new RegExp(`^slo:sli_error:ratio\\{slo="${slo}",window=~"4m40s"\\}$`),
              shows: /^\[\]$/,
            },
            {
              what: 'Prometheus has no target of job retailflow: the SLI is blind because the target is missing',
              in: /^up\{job="retailflow"\}$/,
              shows: /^\[\]$/,
            },
            { what: 'the instance itself runs and answers /readyz', in: /readyz/, shows: /"status":"(?:ready|degraded)"/ },
          ],
          mitigation: { action: () => lostTarget.mitigate(alert), describe: restoreTarget },
          cleanup: () => lostTarget.leave(alert),
          // The compressed 4m40s window emptying of samples and the compressed `for`; then two scrapes for a rate.
          budgetSec: 280 / compression + 300 / compression + 15 + 15,
          prometheusUrl: discovery.url,
        },
        relay,
      ]),
      [
        {
          alert: 'RetailflowCatalogLatencyBurnRatePage',
          fault: `every store call takes ${catalog.latencyMs} ms (storage chaos: a slow database) while shoppers browse ${catalog.browseRate} catalog pages a second, most of them past the catalog cache`,
          labels: () => ({ slo: 'catalog-latency', severity: 'page' }),
          inject: () => chaos(sloInstance, { target: 'storage', enabled: true, latencyMs: catalog.latencyMs }),
          evidence: [
            { what: 'storage chaos is on', in: /admin\/chaos/, shows: /"storage":\{"enabled":true/ },
            {
              what: 'the catalog list route answers slower than 250 ms at p99',
              in: /^histogram_quantile\(0\.99, sum by \(le, http_route\)/,
              shows: /"http_route":"\/api\/v1\/products"\},"value":\[[\d.]+,"(?:0\.(?:2[5-9]|[3-9])|[1-9])/,
            },
            {
              what: 'catalog reads miss the cache and reach the store',
              in: /ballast_cache_results_total\[/,
              shows: /"policy":"catalog-cache","result":"miss"\},"value":\[[\d.]+,"(?!0")/,
            },
          ],
          mitigation: { command: /"target":"storage","enabled":false/, describe: "switch storage chaos off (the runbook's first lever)" },
          cleanup: () => chaos(sloInstance, { target: 'storage', enabled: false }),
          // Slow reads until they outweigh the 56-minute window's threshold (its history guard counts the history
          // it lacks as good: about 0.144 x 168 s / 0.8, four reads in five slow); then the compressed 4m40s window
          // emptying of them, plus a scrape and an evaluation each way.
          budgetSec: (14.4 * 0.01 * 3360) / compression / 0.8 + 15 + 280 / compression + 15,
          prometheusUrl: pages.url,
        },
        sloInstance,
      ],
      [
        {
          alert: 'RetailflowOrderEventFreshnessBurnRatePage',
          fault: `the outbox relay cannot read its table for ${relayStallSec} s (relay chaos, then off: a database failover the relay rides out) while checkouts go on: the events of the outage's first seconds go out more than 30 s late`,
          labels: () => ({ slo: 'order-event-freshness', severity: 'page' }),
          inject: async () => {
            await chaos(sloInstance, { target: 'relay', enabled: true, errorRate: 1 });
            await sleep(relayStallSec * 1000);
            await chaos(sloInstance, { target: 'relay', enabled: false });
          },
          evidence: [
            { what: 'relay chaos is off again: the outage is over', in: /admin\/chaos/, shows: /"relay":\{"enabled":false/ },
            {
              what: 'the outbox lag p99 is above the 30 s objective',
              in: /^label_replace\(histogram_quantile/,
              shows: /"quantile":"0\.99"\},"value":\[[\d.]+,"(?:[3-9]\d|[1-9]\d{2,})(?:\.\d+)?"\]/,
            },
            { what: 'the log says the relay could not reach the database', in: /outbox relay/, shows: /"msg":"outbox relay cannot reach the database"/ },
          ],
          mitigation: {
            action: () => Promise.resolve(),
            describe:
              'none to pull: the relay publishes again and the outbox has caught up, the burn is over (the runbook: "is the burn still going on or already over?"; note the budget spent)',
          },
          cleanup: () => chaos(sloInstance, { target: 'relay', enabled: false }),
          // The relay's next attempt after the outage (at most 10 s of backoff), a scrape and an evaluation; then
          // the compressed 28-minute window forgetting the late events: more than 6 s of the outage's events (6x
          // the budget over the 5h36m window, its history guard counting what it lacks as good) keep the 6x
          // branch burning until then.
          budgetSec: 10 + 15 + 1680 / compression + 15,
          prometheusUrl: pages.url,
        },
        sloInstance,
      ],
    ];
    const plans = opts.quick === true ? allPlans.filter(([plan]) => !LONG_DRILLS.includes(plan.alert)) : allPlans;
    const runs = new Map<string, Promise<Drill>>();
    for (const [plan, instance, after] of plans) {
      const prior = after === undefined ? Promise.resolve() : runs.get(after)!.then(() => undefined);
      runs.set(plan.alert, prior.then(() => drill(plan, instance, plan.prometheusUrl ?? promUrl, compression, waitSec, log)));
    }
    const results = await Promise.all(plans.map(([plan]) => runs.get(plan.alert)!));
    const goals: Record<string, Goal> = {};
    for (const [plan] of plans) {
      const d = results.find((r) => r.alert === plan.alert)!;
      if (!d.passed) log(`  ${d.alert}: FAILED: ${d.failure}`);
      const total = d.firedAfterSec === null || d.resolvedAfterSec === null ? null : d.firedAfterSec + d.resolvedAfterSec;
      goals[plan.alert] = {
        value: d.passed ? total : null,
        goal: Math.round(plan.budgetSec),
        met: d.passed && total !== null && total <= plan.budgetSec,
        firedAfterSec: d.firedAfterSec,
        resolvedAfterSec: d.resolvedAfterSec,
      };
    }
    return { compression, scrapeSec, drills: results, goals };
  } finally {
    await Promise.allSettled(loads.map((l) => l.stop()));
    // The drills are over: no graceful drain to wait for (their databases are dropped below).
    await Promise.allSettled(instances.map((i) => i.service.kill()));
    for (const p of [prometheus, sloPrometheus, pagesPrometheus, discoveryPrometheus]) {
      if (p && p.exitCode === null) {
        const exited = once(p, 'exit');
        p.kill('SIGTERM');
        await exited;
      }
    }
    await proxy?.close();
    if (amqp !== undefined) {
      await run('rabbitmqctl', ['delete_vhost', vhost]).catch(() => undefined);
      await run('rabbitmqctl', ['delete_vhost', dlqVhost]).catch(() => undefined);
    }
    if (baseDb !== undefined) for (const db of databases) await dropDatabase(baseDb, db).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
