/**
 * What the generated rules cost a real Prometheus at scale, against Sloth's shape in the same run.
 *
 * Builds the scenario: 200 SLOs shaped like RetailFlow's checkout availability (good/total PromQL expressions,
 * 28-day period, the Workbook's windows scaled to it) over 4,000 raw counters (200 services x 5 instances x 4
 * status codes), with history backfilled by `promtool tsdb create-blocks-from openmetrics` (the raw counters at
 * `--resolution`, and the recorded 5m rates the generated rules read, at the same resolution; `auto` picks the
 * finest whole minute that keeps the raw samples under 9 M: 2m for 200 SLOs over 70h), and a live
 * exporter on loopback that continues the same counters. Then, for each rule form, it starts Debian's
 * `prometheus` on a copy of that storage (pinned to one core with taskset when available), lets the rules run for
 * `--cycles` evaluations and reads Prometheus's own metrics: rule evaluation time per cycle (the sum of
 * `prometheus_rule_group_last_duration_seconds` over the groups), CPU (`process_cpu_seconds_total`) and resident
 * memory. Samples read per cycle: every rule of the first ten SLOs evaluated once through the query API with
 * `stats=all` (`totalQueryableSamples`; Prometheus 2.42 has no counter of samples read), times SLOs / 10.
 *
 * Forms: `none` (no rules: what scrapes and the TSDB cost, subtracted to give the rules' CPU), `sloth` (Sloth's
 * shape: every window a raw `rate()` ratio of the error and total queries), `raw` (`ballast-slo rules --windows
 * raw`: every window from the counters), `recorded` (the default: every window under 12h in one rule with the page
 * alert, the long windows from the recorded 5m rates in one rule with the ticket alert every 1m, the metadata
 * groups every 2m), `recorded-meta` (the default with `--meta-interval`, 20s: the metadata as often as
 * the alerts, as the rules were before 2m became the default). Every form runs `--warmup` (30s) after each
 * alert group's first evaluation, then is measured over `--cycles` x `--interval`, or the slowest group's
 * interval when longer (so the default form, with its 2m metadata groups, is measured over 2m).
 *
 * Sized for a 2-core machine: the 200-SLO scenario with the default forms (`none,sloth,recorded`) took 7 minutes
 * (run 4 of 2026-12-06, shared machine; 9 with `recorded-meta` as well). What keeps it there: the backfill is
 * written as one file per 24h block and converted by two promtool processes at once (`--parallel`; one file in 2h blocks was parsed 36 times, 5 minutes for 40 SLOs), the
 * resolution adapts to the number of SLOs, three 20s cycles after a 30s warm-up (was six after 60s), and `raw` and
 * `recorded-meta` only when asked for with `--forms`.
 *
 * Evaluation per cycle is the sum over groups of each group's last evaluation time (from Prometheus's `/metrics`:
 * `/api/v1/rules` prints every rule's expression, which polled every cycle cost CPU in proportion to the rules'
 * text), a group that runs every 5m counted for a fifteenth at a 20s interval. It is wall time: on a busy core it includes the
 * time a group waited for the CPU, so it grows with the number of groups evaluating at once. Each form also prints
 * where that time goes, summed per rule kind.
 *
 * Run: node --conditions=@ballast/source --import tsx packages/slo/bench/rules-at-scale.ts [--specs 200]
 *      [--hours 70] [--resolution auto] [--interval 20s] [--cycles 3] [--forms none,sloth,recorded]
 *      [--meta-interval 20s] (of the `recorded-meta` form) [--warmup 30s] [--parallel 2] (promtool processes)
 *      [--block-duration 24h] (the backfill's block length; a Prometheus that ran for days holds compacted blocks)
 * Prints a table and, as its last line, one JSON object. Not part of `npm test`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { defineSlo } from '../src/define.js';
import { formatDuration, parseDuration } from '../src/duration.js';
import type { Slo } from '../src/model.js';
import { generateRules } from '../src/rules/generate.js';

const { values: args } = parseArgs({
  options: {
    specs: { type: 'string', default: '200' },
    hours: { type: 'string', default: '70' },
    resolution: { type: 'string', default: 'auto' },
    interval: { type: 'string', default: '20s' },
    cycles: { type: 'string', default: '3' },
    forms: { type: 'string', default: 'none,sloth,recorded' },
    'block-duration': { type: 'string', default: '24h' },
    'meta-interval': { type: 'string', default: '20s' },
    warmup: { type: 'string', default: '30s' },
    parallel: { type: 'string', default: '2' },
  },
});
const SPECS = Number(args.specs);
const HOURS = Number(args.hours);
const INSTANCES = 5;
/** Requests per second of each instance, by status code: 0.15% server errors, under the 0.5% budget. */
const CODES: Readonly<Record<string, number>> = { '200': 10, '404': 0.4, '500': 0.01, '503': 0.005 };
const METRIC = 'bench_http_requests_total';
/**
 * Raw samples the backfill writes at most when `--resolution auto`: about 9 M is what this 2-core machine turns
 * into blocks in a minute or two, so 200 SLOs over 70h get one sample every 2m and 40 SLOs one every minute.
 */
const AUTO_SAMPLES = 9_000_000;
const RESOLUTION_S =
  args.resolution === 'auto'
    ? 60 * Math.max(1, Math.ceil((SPECS * INSTANCES * Object.keys(CODES).length * HOURS * 60) / AUTO_SAMPLES))
    : (parseDuration(args.resolution) ?? 300_000) / 1000;
const INTERVAL = args.interval;
const INTERVAL_S = (parseDuration(INTERVAL) ?? 20_000) / 1000;
const CYCLES = Number(args.cycles);
const FORMS = args.forms.split(',') as Form[];
type Form = 'none' | 'sloth' | 'raw' | 'recorded' | 'recorded-meta';
const BLOCK_DURATION = args['block-duration'];
const META_INTERVAL = args['meta-interval'];
/** How long every form runs after each group's first evaluation before measuring (cold chunks, page cache). */
const WARMUP_S = (parseDuration(args.warmup) ?? 30_000) / 1000;
/** promtool processes converting the backfill at once (one input file per block). */
const PARALLEL = Math.max(1, Number(args.parallel));
const BLOCK_S = (parseDuration(BLOCK_DURATION) ?? 86_400_000) / 1000;

const NOW_S = Math.floor(Date.now() / 1000);
/** The counters' zero: the start of the backfilled history. */
const T0 = NOW_S - HOURS * 3600;
const counter = (rate: number, t: number): number => Math.round(rate * (t - T0) * 1000) / 1000;

const services = Array.from({ length: SPECS }, (_, i) => `svc${String(i).padStart(3, '0')}`);
const slos: Slo[] = services.map((service) =>
  defineSlo({
    service,
    name: `${service}-checkout-availability`,
    objective: 0.995,
    window: '28d',
    indicator: {
      good: `sum(rate(${METRIC}{service="${service}",code!~"5.."}[{{.window}}]))`,
      total: `sum(rate(${METRIC}{service="${service}"}[{{.window}}]))`,
    },
  }),
);

/** Sloth's shape for the same SLOs and windows: each window's error ratio from raw rate()s, alerts on them. */
function slothRules(): string {
  const groups = slos.map((slo) => {
    const sel = `{sloth_id="${slo.name}",sloth_service="${slo.service}",sloth_slo="${slo.name}"}`;
    const labels = { sloth_id: slo.name, sloth_service: slo.service, sloth_slo: slo.name };
    const windows = [...new Set(slo.alerting.conditions.flatMap((c) => [c.shortWindow, c.longWindow]))];
    const rules: object[] = windows.map((w) => ({
      record: `slo:sli_error:ratio_rate${w}`,
      expr:
        `(sum(rate(${METRIC}{service="${slo.service}",code=~"5.."}[${w}])))\n/\n` +
        `(sum(rate(${METRIC}{service="${slo.service}"}[${w}])))`,
      labels,
    }));
    rules.push({
      record: 'slo:sli_error:ratio_rate28d',
      expr: `sum_over_time(slo:sli_error:ratio_rate5m${sel}[28d])\n/ ignoring (sloth_window)\ncount_over_time(slo:sli_error:ratio_rate5m${sel}[28d])`,
      labels,
    });
    for (const severity of ['page', 'ticket']) {
      const terms = slo.alerting.conditions
        .filter((c) => c.severity === severity)
        .map(
          (c) =>
            `(slo:sli_error:ratio_rate${c.longWindow}${sel} > (${c.burnRate} * 0.005) and slo:sli_error:ratio_rate${c.shortWindow}${sel} > (${c.burnRate} * 0.005))`,
        );
      rules.push({ alert: `${slo.name}-${severity}`, expr: terms.join(' or '), labels: { severity } });
    }
    return { name: `sloth-slo-sli-recordings-${slo.name}`, interval: INTERVAL, rules };
  });
  return stringify({ groups }, { lineWidth: 0 });
}

function rulesOf(form: Form): string {
  if (form === 'none') return 'groups: []\n';
  if (form === 'sloth') return slothRules();
  if (form === 'recorded-meta') {
    return generateRules(slos, { interval: INTERVAL, windows: 'recorded', metaInterval: META_INTERVAL }).yaml;
  }
  return generateRules(slos, { interval: INTERVAL, windows: form }).yaml;
}

function run(cmd: string, argv: string[]): void {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise((resolve) => stream.once('drain', resolve));
}

/**
 * The backfill, up to 5 minutes ago: raw counters and the recorded 5m rates, both every RESOLUTION_S (as if
 * scrapes and rule evaluations ran at that interval: the samples every form reads scale alike with it). One
 * OpenMetrics file per `--block-duration` block, aligned as promtool aligns blocks, converted by up to
 * `--parallel` promtool processes at once: promtool parses its whole input once per block it writes, so one file
 * of 70h in 2h blocks is parsed 36 times, one file per block once.
 */
async function backfill(dir: string): Promise<void> {
  const end = NOW_S - 300;
  const blockOf = (t: number): number => Math.floor(t / BLOCK_S);
  const files = new Map<number, { path: string; out: NodeJS.WritableStream; chunk: string }>();
  for (let b = blockOf(T0); b <= blockOf(end); b++) {
    const path = join(dir, `history-${b}.om`);
    files.set(b, { path, out: createWriteStream(path), chunk: '' });
  }
  /** Appends `name value t` for every t of `times` to the file of its block; flushes every series. */
  const series = async (
    name: string,
    times: Iterable<number>,
    value: (t: number) => number,
  ): Promise<void> => {
    for (const t of times) files.get(blockOf(t))!.chunk += `${name} ${value(t)} ${t}\n`;
    for (const f of files.values()) {
      if (f.chunk !== '') await write(f.out, f.chunk);
      f.chunk = '';
    }
  };
  const every = function* (from: number, to: number): Generator<number> {
    for (let t = from; t <= to; t += RESOLUTION_S) yield t;
  };
  for (const service of services) {
    for (let i = 0; i < INSTANCES; i++) {
      for (const [code, rate] of Object.entries(CODES)) {
        const name = `${METRIC}{service="${service}",instance="i${i}",code="${code}"}`;
        await series(name, every(T0, end), (t) => counter(rate, t));
      }
    }
  }
  const total = INSTANCES * Object.values(CODES).reduce((a, b) => a + b, 0);
  const bad = INSTANCES * (CODES['500']! + CODES['503']!);
  for (const [metric, value] of [
    ['slo:sli_bad:rate5m', bad],
    ['slo:sli_total:rate5m', total],
  ] as const) {
    for (const slo of slos) {
      await series(
        `${metric}{slo="${slo.name}",service="${slo.service}"}`,
        every(T0 + 300, end),
        () => value,
      );
    }
  }
  for (const slo of slos) {
    await series(
      `slo:history_start:timestamp{slo="${slo.name}",service="${slo.service}"}`,
      every(end - 1800, end),
      () => T0 + 300,
    );
  }
  for (const f of files.values()) {
    await write(f.out, '# EOF\n');
    await new Promise<void>((resolve, reject) =>
      f.out.end((e?: Error | null) => (e ? reject(e) : resolve())),
    );
  }
  const queue = [...files.entries()];
  const convert = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [b, f] = next;
      const out = join(dir, `blocks-${b}`);
      await runAsync('promtool', [
        'tsdb',
        'create-blocks-from',
        'openmetrics',
        `--max-block-duration=${BLOCK_DURATION}`,
        f.path,
        out,
      ]);
      rmSync(f.path);
      run('sh', [
        '-c',
        `mkdir -p "${join(dir, 'blocks')}" && mv "${out}"/* "${join(dir, 'blocks')}"/ && rmdir "${out}"`,
      ]);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, convert));
}

function runAsync(cmd: string, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${argv.join(' ')} failed: ${stderr}`)),
    );
  });
}

/** The live exporter: the same counters, continued. */
function exporter(): Promise<Server> {
  const server = createServer((_, res) => {
    const t = Date.now() / 1000;
    const lines: string[] = [`# TYPE ${METRIC.replace(/_total$/, '')} counter`];
    for (const service of services) {
      for (let i = 0; i < INSTANCES; i++) {
        for (const [code, rate] of Object.entries(CODES)) {
          lines.push(`${METRIC}{service="${service}",instance="i${i}",code="${code}"} ${counter(rate, t)}`);
        }
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`${lines.join('\n')}\n`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function metrics(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    const key = line.slice(0, space);
    const name = key.replace(/\{.*$/, '');
    const value = Number(line.slice(space + 1));
    if (name === 'prometheus_rule_group_last_duration_seconds') {
      out.set(name, (out.get(name) ?? 0) + value);
    } else if (name === 'prometheus_rule_group_iterations_total') {
      out.set(name, Math.min(out.get(name) ?? Infinity, value));
    } else if (name === 'process_cpu_seconds_total' || name === 'process_resident_memory_bytes') {
      out.set(name, value);
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

/**
 * Samples one evaluation of every rule of the first `sampled` SLOs reads, scaled to all SLOs, each group's
 * weighted by how often it runs per cycle of INTERVAL.
 */
async function samplesPerCycle(port: number, rules: string): Promise<number> {
  const sampled = Math.min(10, SPECS);
  const names = new Set(slos.slice(0, sampled).map((s) => s.name));
  const groups = (
    parse(rules) as { groups: { name: string; interval?: string; rules: { expr: string }[] }[] }
  ).groups;
  let total = 0;
  for (const g of groups.filter((x) => [...names].some((n) => x.name.includes(n)))) {
    // A group evaluated every 2m reads its samples a sixth of the 20s cycles.
    const weight = INTERVAL_S / ((parseDuration(g.interval ?? INTERVAL) ?? INTERVAL_S * 1000) / 1000);
    for (const r of g.rules) {
      const url = `http://127.0.0.1:${port}/api/v1/query?stats=all&query=${encodeURIComponent(r.expr)}`;
      const body = (await (await fetch(url)).json()) as {
        data?: { stats?: { samples?: { totalQueryableSamples?: number } } };
      };
      total += (body.data?.stats?.samples?.totalQueryableSamples ?? 0) * weight;
    }
  }
  return (total * SPECS) / sampled;
}

/**
 * The rule groups as Prometheus's own metrics report them: interval, last evaluation time (seconds) and when it
 * last ran. Read from `/metrics` rather than `/api/v1/rules`, which prints every rule's expression: polled every
 * cycle, that cost Prometheus CPU in proportion to the rules' text and counted in the form's figures.
 */
async function groupsOf(
  port: number,
): Promise<{ interval: number; evaluationTime: number; lastEvaluation: number }[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const groups = new Map<string, { interval: number; evaluationTime: number; lastEvaluation: number }>();
  for (const line of text.split('\n')) {
    const m =
      /^prometheus_rule_group_(interval_seconds|last_duration_seconds|last_evaluation_timestamp_seconds)\{rule_group="([^"]*)"\} (\S+)$/.exec(
        line,
      );
    if (!m) continue;
    const g = groups.get(m[2]!) ?? { interval: 0, evaluationTime: 0, lastEvaluation: 0 };
    const value = Number(m[3]);
    if (m[1] === 'interval_seconds') g.interval = value;
    else if (m[1] === 'last_duration_seconds') g.evaluationTime = value;
    else g.lastEvaluation = Math.max(0, value * 1000);
    groups.set(m[2]!, g);
  }
  return [...groups.values()];
}

/** A rule's name without the window or severity: what the profile groups evaluation time by. */
function ruleKind(rule: { name: string; type: string }): string {
  if (rule.type === 'alerting')
    return `alert ${rule.name.replace(/^.*BurnRate|^svc\d+-checkout-availability-/, '')}`;
  return rule.name.replace(/rate(\d+[smhdw])+$/, 'rate<w>');
}

/**
 * Where the evaluation time goes: `/api/v1/rules` gives each rule's last evaluation time; summed per rule kind
 * (record name with the window replaced by `<w>`, or the alert's severity) over every group, weighted by how
 * often its group runs per cycle of INTERVAL (as the evaluation per cycle is).
 */
async function profile(port: number): Promise<Record<string, number>> {
  const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/rules`)).json()) as {
    data: {
      groups: {
        name: string;
        interval: number;
        rules: { name: string; type: string; evaluationTime: number }[];
      }[];
    };
  };
  const out: Record<string, number> = {};
  for (const g of body.data.groups) {
    const weight = INTERVAL_S / g.interval;
    // The ticket group records the same series as the alerts' group, under other windows.
    const where = g.name.endsWith('-tickets') ? ' (tickets)' : '';
    for (const r of g.rules) {
      const kind = `${ruleKind(r)}${r.type === 'alerting' ? '' : where}`;
      out[kind] = (out[kind] ?? 0) + r.evaluationTime * weight;
    }
  }
  return Object.fromEntries(
    Object.entries(out)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, Number(v.toFixed(3))]),
  );
}

/** A free loopback port (the kernel's pick), for Prometheus's listener. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface FormResult {
  readonly form: Form;
  readonly rules: number;
  readonly evalSecondsPerCycle: number;
  readonly samplesPerCycle: number;
  readonly cpuCores: number;
  /** Prometheus CPU seconds per cycle of INTERVAL (rules, scrapes, compaction: compare with the `none` form). */
  readonly cpuSecondsPerCycle: number;
  readonly rssMiB: number;
  /** Seconds of the last evaluation per rule kind, summed over groups. */
  readonly profile: Record<string, number>;
}

async function measureForm(form: Form, base: string, target: string): Promise<FormResult> {
  const dir = join(base, form);
  run('mkdir', ['-p', dir]);
  run('cp', ['-r', join(base, 'blocks'), join(dir, 'data')]);
  const rules = rulesOf(form);
  writeFileSync(join(dir, 'rules.yml'), rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1m', evaluation_interval: INTERVAL },
      rule_files: ['rules.yml'],
      scrape_configs: [{ job_name: 'exporter', static_configs: [{ targets: [target] }] }],
    }),
  );
  const port = await freePort();
  const argv = [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    '--storage.tsdb.retention.time=30d',
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ];
  const pin = spawnSync('taskset', ['--version']).status === 0;
  const child: ChildProcess = pin
    ? spawn('taskset', ['-c', '1', 'prometheus', ...argv], { stdio: 'ignore' })
    : spawn('prometheus', argv, { stdio: 'ignore' });
  try {
    await waitFor('prometheus ready', 120_000, async () =>
      (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok ? true : undefined,
    );
    // The alerts' groups evaluate once first (cold chunks), then the warm-up. A slower metadata group may first
    // run later: the measurement window covers its interval, and only cycles after every group ran are counted.
    await waitFor('every group at the alerts interval evaluated once', 120_000, async () =>
      (await groupsOf(port)).every((g) => g.interval > INTERVAL_S || g.lastEvaluation > 0) ? true : undefined,
    );
    await sleep(WARMUP_S * 1000);
    const start = await metrics(port);
    const startWall = Date.now();
    // CPU over whole cycles of the slowest group, at least CYCLES cycles of the alerts' groups: the same window
    // for every form when --cycles x --interval covers --meta-interval.
    const longest = Math.max(INTERVAL_S, ...(await groupsOf(port)).map((g) => g.interval));
    const windowS = Math.max(CYCLES * INTERVAL_S, longest);
    const durations: number[] = [];
    while ((Date.now() - startWall) / 1000 < windowS) {
      await sleep(INTERVAL_S * 1000);
      // Each group's last evaluation time, weighted by how often it runs per cycle of INTERVAL.
      const groups = await groupsOf(port);
      if (groups.some((g) => g.lastEvaluation === 0)) continue;
      durations.push(groups.reduce((sum, g) => sum + (g.evaluationTime * INTERVAL_S) / g.interval, 0));
    }
    if (durations.length === 0) throw new Error(`${form}: a rule group never evaluated in ${windowS}s`);
    const end = await metrics(port);
    const wall = (Date.now() - startWall) / 1000;
    // Before the stats queries below, whose load would count in the rules' last evaluation times.
    const where = await profile(port);
    const delta = (k: string): number => (end.get(k) ?? 0) - (start.get(k) ?? 0);
    return {
      form,
      rules: rules.split('\n').filter((l) => /^\s+- (record|alert):/.test(l)).length,
      evalSecondsPerCycle: durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length),
      cpuSecondsPerCycle: (delta('process_cpu_seconds_total') / wall) * INTERVAL_S,
      samplesPerCycle: await samplesPerCycle(port, rules),
      cpuCores: delta('process_cpu_seconds_total') / wall,
      rssMiB: (end.get('process_resident_memory_bytes') ?? 0) / 1024 / 1024,
      profile: where,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = mkdtempSync(join(tmpdir(), 'ballast-rules-at-scale-'));
const started = Date.now();
try {
  console.log(
    `scenario: ${SPECS} SLOs, ${SPECS * INSTANCES * Object.keys(CODES).length} raw series, ${HOURS}h of history ` +
      `(raw every ${formatDuration(RESOLUTION_S * 1000)}), scrape 1m, rules every ${INTERVAL}, ${CYCLES} cycles per form`,
  );
  await backfill(base);
  console.log(`backfill: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const server = await exporter();
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const results: FormResult[] = [];
  try {
    for (const form of FORMS) results.push(await measureForm(form, base, target));
  } finally {
    server.close();
  }
  const baseline = results.find((r) => r.form === 'sloth');
  const idle = results.find((r) => r.form === 'none');
  /** CPU seconds per cycle the rules cost: the form's minus Prometheus's with no rules (scrapes, TSDB). */
  const ruleCpu = (r: FormResult): number => r.cpuSecondsPerCycle - (idle?.cpuSecondsPerCycle ?? 0);
  console.log('');
  console.log(
    '| rules | rules written | evaluation per cycle (sum over groups) | samples read per cycle | Prometheus CPU per cycle | of which rules | RSS |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.form} | ${r.rules} | ${r.evalSecondsPerCycle.toFixed(2)} s | ${(r.samplesPerCycle / 1e6).toFixed(2)} M | ` +
        `${r.cpuSecondsPerCycle.toFixed(2)} s | ${idle ? `${ruleCpu(r).toFixed(2)} s` : '-'} | ${r.rssMiB.toFixed(0)} MiB |`,
    );
  }
  const ratios: Record<string, number> = {};
  if (baseline) {
    for (const r of results.filter((x) => x !== baseline && x !== idle)) {
      const key = r.form.replace(/-/g, '_');
      ratios[`${key}_vs_sloth_eval_time`] = Number(
        (r.evalSecondsPerCycle / baseline.evalSecondsPerCycle).toFixed(3),
      );
      ratios[`${key}_vs_sloth_samples`] = Number((r.samplesPerCycle / baseline.samplesPerCycle).toFixed(3));
      if (idle) {
        ratios[`${key}_vs_sloth_rule_cpu`] = Number((ruleCpu(r) / ruleCpu(baseline)).toFixed(3));
      }
    }
  }
  for (const r of results) {
    console.log(`\nprofile ${r.form} (seconds of the last evaluation per cycle, summed over groups):`);
    for (const [k, v] of Object.entries(r.profile)) console.log(`  ${k.padEnd(48)} ${v.toFixed(3)}`);
  }
  console.log(`total: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({ bench: 'rules-at-scale', results, ratios }));
} finally {
  rmSync(base, { recursive: true, force: true });
}
