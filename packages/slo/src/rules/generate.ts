import { invalidOption } from '@ballast/core';
import { stringify } from 'yaml';
import { formatDuration, parseDuration } from '../duration.js';
import { periodMs, type BurnRateCondition, type Severity, type Slo } from '../model.js';
import { burnRateAlertName, SLO_RECORDS } from './names.js';
import { sloQueries } from './queries.js';

/**
 * A Prometheus recording rule.
 *
 * @example
 * ```ts
 * const rule: RecordingRule = { record: 'slo:objective:ratio', expr: 'vector(0.999)', labels: { slo: 'a', service: 's' } };
 * ```
 */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A Prometheus alerting rule.
 *
 * @example
 * ```ts
 * const { groups } = generateRules(slos);
 * const alerts = groups.flatMap((g) => g.rules).filter((r): r is AlertingRule => 'alert' in r);
 * ```
 */
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * One rule group of a Prometheus rules file.
 *
 * @example
 * ```ts
 * generateRules([slo]).groups.map((g) => g.name); // ['slo-checkout-checkout-availability-sli-and-alerts', 'slo-checkout-checkout-availability-meta']
 * ```
 */
export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/**
 * What {@link generateRules} returns: the rules file as YAML and the same rules as data.
 *
 * @example
 * ```ts
 * const { yaml, alerts } = generateRules(slos);
 * writeFileSync('rules.yml', yaml);
 * for (const a of alerts) writeRunbook(`runbooks/${a.alert}.md`, a);
 * ```
 */
export interface GeneratedRules {
  /** The rules file (`groups:` …), ready for `promtool check rules` and Prometheus `rule_files`. */
  readonly yaml: string;
  readonly groups: readonly RuleGroup[];
  /** Every alert written, in file order, with its SLO and severity (runbooks are named after `alert`). */
  readonly alerts: readonly {
    readonly alert: string;
    readonly slo: string;
    readonly service: string;
    readonly severity: Severity;
  }[];
}

/**
 * Options of {@link generateRules}.
 *
 * @example
 * ```ts
 * const options: RulesOptions = { runbookBaseUrl: 'https://github.com/acme/shop/blob/main', interval: '30s' };
 * ```
 */
export interface RulesOptions {
  /**
   * Prefix of every alert's `runbook_url` annotation: `<runbookBaseUrl>/runbooks/<AlertName>.md`. Trailing slashes
   * are dropped; the empty string gives the relative `runbooks/<AlertName>.md`.
   * @default ''
   */
  readonly runbookBaseUrl?: string;
  /**
   * The evaluation interval of every group (Prometheus `interval`); omitted, groups use Prometheus's
   * `global.evaluation_interval`.
   * @default undefined
   */
  readonly interval?: string;
  /**
   * How the error ratio over a window that no page reads, or of twelve hours or longer, is computed. `'recorded'`
   * derives it from the
   * recorded 5m rates (`sum_over_time(slo:sli_bad:rate5m[w]) / sum_over_time(slo:sli_total:rate5m[w])`): one
   * recorded series per window instead of every raw series, so evaluation reads a fraction of the samples; the
   * window is blurred by 5m at its edges. `'raw'` reads `rate()` of the counters over the whole window at every
   * evaluation. The pages' windows under 12h always read the counters, and both forms hold their alerts while the recorded
   * history is shorter than a window (see {@link SLO_RECORDS}).
   * @default 'recorded'
   * @example
   * ```ts
   * generateRules(slos, { windows: 'raw' }); // every window from rate() of the counters
   * ```
   */
  readonly windows?: 'recorded' | 'raw';
  /**
   * The evaluation interval of each SLO's metadata group (objective, error budget, period, the period's error
   * ratio and burn rate, budget left, period coverage, the history's age and coverage): figures that move slowly
   * and that no alert reads (9 of an SLO's 21 rules). A longer interval than the alerts' evaluates them less
   * often; the budget figures are then up to that old. Omitted, `2m` (or `interval` when that is longer):
   * Prometheus advises against intervals much over 2m, whose samples would go stale between evaluations.
   * @default '2m' (or `interval` when longer)
   * @example
   * ```ts
   * generateRules(slos, { interval: '30s', metaInterval: '5m' });
   * ```
   */
  readonly metaInterval?: string;
  /**
   * The evaluation interval of each SLO's ticket group: the error ratios over the windows only ticket conditions
   * read (derived from the recorded 5m rates) and the ticket alert. Tickets are for working hours; evaluated every minute rather than
   * at the alerts' interval, a ticket opens or resolves up to that much later, and the long windows cost a third as
   * much at 20s alerts. Omitted, `1m` (or `interval` when that is longer).
   * @default '1m' (or `interval` when longer)
   * @example
   * ```ts
   * generateRules(slos, { interval: '20s', ticketInterval: '20s' }); // tickets as often as pages
   * ```
   */
  readonly ticketInterval?: string;
}

/**
 * Windows this long and longer are derived from the recorded 5m rates, and so are all the windows no page reads.
 * The 5m blur at their edges moves a crossing by a minute or two, so the pages' windows (the Workbook's 1h, 6h, 5m
 * and 30m, scaled to the period) stay on the counters and page exactly as before; tickets may move by an
 * evaluation or two.
 */
const DERIVED_FROM_MS = 12 * 3_600_000;
/**
 * A recorded history with a gap longer than this starts again: a Prometheus restarted on its own storage within
 * the hour keeps its history (its windows have a hole, judged on the rest), one started on empty storage or down
 * longer starts from nothing.
 */
const HISTORY_GAP = '1h';
/** The recent stretch whose sample count gives the evaluation interval, for the period coverage. */
const RECENT = '10m';

/** The metadata group's interval when none is given: 2m, or the alerts' interval when that is longer. */
const DEFAULT_META_INTERVAL = '2m';

/** The ticket group's interval when none is given: 1m, or the alerts' interval when that is longer. */
const DEFAULT_TICKET_INTERVAL = '1m';

/** `fallback`, or the alerts' `interval` when that is longer. */
function atLeast(fallback: string, interval: string | undefined): string {
  const alerts = interval === undefined ? undefined : parseDuration(interval);
  return alerts !== undefined && alerts > (parseDuration(fallback) ?? 0) ? interval! : fallback;
}

function intervalOption(name: 'metaInterval' | 'ticketInterval', value: string | undefined): void {
  if (value !== undefined && parseDuration(value) === undefined) {
    throw invalidOption(name, 'a duration such as `1m` or `5m`', value);
  }
}

/** The recording windows an SLO needs: every alert window, plus the period (named by its nominal length). */
function alertWindows(slo: Slo): string[] {
  const windows = new Map<string, number>();
  for (const c of slo.alerting.conditions) {
    windows.set(c.longWindow, c.longWindowMs);
    windows.set(c.shortWindow, c.shortWindowMs);
  }
  return [...windows.entries()].sort((a, b) => a[1] - b[1]).map(([w]) => w);
}

/**
 * A number as PromQL text, without binary floating-point noise.
 *
 * @example
 * ```ts
 * promNumber(1 - 0.999); // '0.001'
 * ```
 */
export function promNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/** Escapes Go-template delimiters so spec text in annotations is printed literally by Prometheus. */
function literal(text: string): string {
  return text.replace(/\{\{|\}\}/g, (m) => `{{ "${m}" }}`);
}

function selectorOf(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/**
 * The labels of every series and alert of `slo`: its own labels, then `slo` and `service` (which win).
 *
 * @example
 * ```ts
 * sloLabels(slo); // { team: 'payments', slo: 'checkout-availability', service: 'checkout' }
 * ```
 */
export function sloLabels(slo: Slo): Record<string, string> {
  return { ...slo.labels, slo: slo.name, service: slo.service };
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(10))}%`;
}

function conditionText(c: BurnRateCondition): string {
  return `${promNumber(c.burnRate)}x over both ${c.longWindow} and ${c.shortWindow}`;
}

function periodText(slo: Slo): string {
  const w = slo.timeWindow;
  return w.kind === 'rolling' ? `rolling ${w.duration}` : `calendar ${w.unit} (${w.timeZone})`;
}

function alertRule(
  slo: Slo,
  severity: Severity,
  conditions: readonly BurnRateCondition[],
  runbookBaseUrl: string,
): AlertingRule {
  const labels = sloLabels(slo);
  const budget = promNumber(1 - slo.objective);
  const guard = slo.alerting.minEvents;
  const inner = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const of = (name: string, windows: readonly string[]): string =>
    `${name}{${[...inner, `window=~${JSON.stringify(windows.join('|'))}`].join(',')}}`;
  // The recorded ratios are already held to the history (see sloRuleGroups): a condition holds when every one of
  // its windows is over the threshold, counted in one selector of the recorded ratios.
  const terms = conditions.map((c) => {
    const windows = [...new Set([c.longWindow, c.shortWindow])];
    const threshold = `(${promNumber(c.burnRate)} * ${budget})`;
    const parts = [
      `count without (window) (${of(SLO_RECORDS.errorRatio, windows)} > ${threshold}) == ${windows.length}`,
    ];
    if (guard > 0) {
      const events = windows
        .map(
          (w) =>
            `${of(SLO_RECORDS.totalRateByWindow, [w])} * ${(parseDuration(w) ?? 0) / 1000} >= ${promNumber(guard)}`,
        )
        .join('\n  or\n  ');
      parts.push(`count without (window) (\n  ${events}\n  ) == ${windows.length}`);
    }
    return parts.length === 1 ? parts[0]! : `(\n  ${parts.join('\n  and\n  ')}\n)`;
  });
  const alert = burnRateAlertName(slo, severity);
  const base = runbookBaseUrl.replace(/\/+$/, '');
  const forDurations = conditions.map((c) => c.for).filter((f): f is string => f !== undefined);
  // One alert per severity: when conditions set different `for` durations, the longest applies to all.
  const longestFor = forDurations
    .map((f) => [f, parseDuration(f) ?? 0] as const)
    .sort((a, b) => a[1] - b[1])
    .at(-1)?.[0];
  const what = slo.budgeting.method === 'Timeslices' ? 'error budget (in time slices)' : 'error budget';
  const fastest = Math.max(...conditions.map((c) => c.burnRate));
  return {
    alert,
    expr: terms.join('\nor\n'),
    ...(longestFor === undefined ? {} : { for: longestFor }),
    labels: { ...labels, severity },
    annotations: {
      summary: literal(
        `${slo.displayName} (${slo.service}) is burning its error budget too fast: ${severity === 'page' ? 'act now' : 'look at it today'}.`,
      ),
      description: literal(
        `SLO ${slo.name} (objective ${percent(slo.objective)}, ${periodText(slo)}): the burn rate of its ` +
          `${what} is above ${conditions.map(conditionText).join(', or above ')}. ` +
          `A burn rate of 1x spends exactly the error budget in one period; at ${promNumber(fastest)}x the budget ` +
          `is gone in ${formatDuration(periodMs(slo.timeWindow) / fastest)}. While Prometheus has less history than ` +
          `a window, the missing part counts as good traffic (${SLO_RECORDS.alertHistoryCoverage} below 1).`,
      ),
      runbook_url: `${base === '' ? '' : `${base}/`}runbooks/${alert}.md`,
    },
  };
}

/**
 * The rule groups of one SLO, exactly as {@link generateRules} writes them: its error ratios and alerts, then its
 * metadata.
 *
 * @example
 * ```ts
 * import { sloRuleGroups } from '@ballast/slo';
 * const [sli, meta] = sloRuleGroups(slo, { interval: '30s' });
 * ```
 */
export function sloRuleGroups(slo: Slo, options: RulesOptions = {}): RuleGroup[] {
  const labels = sloLabels(slo);
  const sel = selectorOf(labels);
  const q = sloQueries(slo);
  const windows = alertWindows(slo);
  const msOf = (w: string): number => parseDuration(w) ?? 0;
  const periodWindow = formatDuration(periodMs(slo.timeWindow));
  const budget = promNumber(1 - slo.objective);
  const form = options.windows ?? 'recorded';
  if (form !== 'recorded' && form !== 'raw') throw invalidOption('windows', "'recorded' or 'raw'", form);
  // Windows that no page reads: evaluated with the ticket alert in the ticket group, every minute, and derived
  // from the recorded 5m rates (a ticket may move by an evaluation or two). The pages' windows read the counters
  // (from 12h on they too are derived), so that pages decide exactly as the counters do.
  const paged = new Set(
    slo.alerting.conditions
      .filter((c) => c.severity === 'page')
      .flatMap((c) => [c.longWindow, c.shortWindow]),
  );
  const ticketOnly = windows.filter((w) => !paged.has(w));
  const derived = (w: string): boolean =>
    form === 'recorded' && (msOf(w) >= DERIVED_FROM_MS || ticketOnly.includes(w));
  const sli: RecordingRule[] = [];
  const record = (name: string, expr: string): void => void sli.push({ record: name, expr, labels });
  const overRecorded = (fn: string, name: string, w: string): string => `${fn}(${name}${sel}[${w}])`;

  // The 5m rates first: the derived windows, the period ratio and the history marker read them.
  if (slo.budgeting.method !== 'Timeslices') record(SLO_RECORDS.badRate, q.bad('5m'));
  record(SLO_RECORDS.totalRate, q.total('5m'));
  // When the recorded history began: carried from one evaluation to the next, started again after a long gap.
  record(
    SLO_RECORDS.historyStart,
    `${overRecorded('last_over_time', SLO_RECORDS.historyStart, HISTORY_GAP)}\nor on()\n` +
      `(vector(time()) and on() ${SLO_RECORDS.totalRate}${sel})`,
  );

  // The windows of an SLO in one rule, each under its `window` label: one evaluation, one query and one write per
  // SLO and cycle instead of one per window (a rule's fixed cost dominated the alerts' group, not samples).
  const byWindow = (ws: readonly string[], expr: (w: string) => string): string =>
    ws.map((w) => `label_replace(\n${expr(w)},\n"window", "${w}", "", "")`).join('\nor\n');
  // While the recorded history is shorter than a window, the part of the window before it counts as good traffic
  // at the rate seen so far: the ratio is scaled by history / window (1 once the window is covered). Held here
  // rather than in the alerts, so that each alert condition reads one selector; `copy` takes labels from the
  // history series (see the ticket windows below).
  const held = (expr: string, w: string, copy: readonly string[] = []): string =>
    `(${expr})\n* on() group_left(${copy.join(', ')})\n` +
    `clamp_max((time() - ${SLO_RECORDS.historyStart}${sel}) / ${msOf(w) / 1000}, 1)`;
  let ratio: (w: string) => string;
  if (slo.budgeting.method === 'Timeslices') {
    const slice = slo.budgeting.timesliceWindow;
    record(SLO_RECORDS.timesliceError(slice), q.errorRatio(slice));
    // `>= 0` drops slices without events (0/0 is NaN), so they count neither as good nor as bad.
    record(
      SLO_RECORDS.timesliceBad,
      `(${SLO_RECORDS.timesliceError(slice)}${sel} >= 0) > bool ${promNumber(1 - slo.budgeting.timesliceTarget)}`,
    );
    ratio = (w) => overRecorded('avg_over_time', SLO_RECORDS.timesliceBad, w);
  } else {
    ratio = (w) =>
      derived(w)
        ? // Traffic-weighted: the sums of recorded 5m rates, divided (never an average of ratios).
          `${overRecorded('sum_over_time', SLO_RECORDS.badRate, w)}\n/\n${overRecorded('sum_over_time', SLO_RECORDS.totalRate, w)}`
        : q.errorRatio(w);
  }
  // The pages' windows in one rule, the ticket-only windows in another: a query reads every selector over the
  // time range of its longest, so long and short windows in one rule would look up the short windows' counters in
  // every block of the long ones.
  const withPages = windows.filter((w) => !ticketOnly.includes(w));
  if (withPages.length > 0)
    record(
      SLO_RECORDS.errorRatio,
      byWindow(withPages, (w) => held(ratio(w), w)),
    );
  if (slo.alerting.minEvents > 0) {
    record(
      SLO_RECORDS.totalRateByWindow,
      byWindow(windows, (w) =>
        derived(w) ? overRecorded('avg_over_time', SLO_RECORDS.totalRate, w) : q.total(w),
      ),
    );
  }
  // The ticket windows' rule records the same series name under other window labels. Its only static label is
  // `slo` (the others come from the history series through group_left): promtool's duplicate-rules lint compares
  // record names and static labels, and would otherwise take the two rules for one series written twice.
  const { slo: sloLabel, ...rest } = labels;
  const tickets: (RecordingRule | AlertingRule)[] =
    ticketOnly.length === 0
      ? []
      : [
          {
            record: SLO_RECORDS.errorRatio,
            expr: byWindow(ticketOnly, (w) => held(ratio(w), w, Object.keys(rest))),
            labels: { slo: sloLabel! },
          },
        ];

  const runbookBaseUrl = options.runbookBaseUrl ?? '';
  const alerts: AlertingRule[] = [];
  for (const severity of ['page', 'ticket'] as const) {
    const conditions = slo.alerting.conditions.filter((c) => c.severity === severity);
    if (conditions.length === 0) continue;
    (severity === 'page' ? alerts : tickets).push(alertRule(slo, severity, conditions, runbookBaseUrl));
  }

  const meta: RecordingRule[] = [];
  const metaRecord = (name: string, expr: string): void => void meta.push({ record: name, expr, labels });
  const periodSeconds = periodMs(slo.timeWindow) / 1000;
  metaRecord(SLO_RECORDS.objective, `vector(${promNumber(slo.objective)})`);
  metaRecord(SLO_RECORDS.errorBudget, `vector(${budget})`);
  metaRecord(SLO_RECORDS.period, `vector(${periodSeconds})`);
  // What on-call reads of the history behind the alerts; the alerts compute the same age themselves.
  metaRecord(SLO_RECORDS.history, `time() - ${SLO_RECORDS.historyStart}${sel}`);
  metaRecord(
    SLO_RECORDS.alertHistoryCoverage,
    `clamp_max(${SLO_RECORDS.history}${sel} / ${Math.max(...windows.map(msOf)) / 1000}, 1)`,
  );
  metaRecord(
    SLO_RECORDS.periodErrorRatio,
    slo.budgeting.method === 'Timeslices'
      ? overRecorded('avg_over_time', SLO_RECORDS.timesliceBad, periodWindow)
      : // Traffic-weighted: the sums of recorded 5m rates, divided (never an average of ratios).
        `${overRecorded('sum_over_time', SLO_RECORDS.badRate, periodWindow)}\n/\n${overRecorded('sum_over_time', SLO_RECORDS.totalRate, periodWindow)}`,
  );
  metaRecord(SLO_RECORDS.periodBurnRate, `${SLO_RECORDS.periodErrorRatio}${sel} / ${budget}`);
  metaRecord(SLO_RECORDS.budgetRemaining, `1 - ${SLO_RECORDS.periodBurnRate}${sel}`);
  // Samples of the 5m rate over the period against those of the last 10 minutes: the share of the period that
  // Prometheus holds (less on a young Prometheus, after gaps, or with a retention shorter than the period),
  // whatever the evaluation interval.
  metaRecord(
    SLO_RECORDS.periodCoverage,
    `clamp_max(\n(${overRecorded('count_over_time', SLO_RECORDS.totalRate, periodWindow)} - 1)\n/\n` +
      `(${overRecorded('count_over_time', SLO_RECORDS.totalRate, RECENT)} - 1)\n* ${promNumber(msOf(RECENT) / 1000 / periodSeconds)}, 1)`,
  );

  const interval = options.interval === undefined ? {} : { interval: options.interval };
  intervalOption('metaInterval', options.metaInterval);
  intervalOption('ticketInterval', options.ticketInterval);
  const metaInterval = { interval: options.metaInterval ?? atLeast(DEFAULT_META_INTERVAL, options.interval) };
  const ticketInterval = {
    interval: options.ticketInterval ?? atLeast(DEFAULT_TICKET_INTERVAL, options.interval),
  };
  return [
    { name: `slo-${slo.service}-${slo.name}-sli-and-alerts`, ...interval, rules: [...sli, ...alerts] },
    ...(tickets.length === 0
      ? []
      : [{ name: `slo-${slo.service}-${slo.name}-tickets`, ...ticketInterval, rules: tickets }]),
    { name: `slo-${slo.service}-${slo.name}-meta`, ...metaInterval, rules: meta },
  ];
}

const HEADER =
  '# Prometheus rules generated by @ballast/slo (`ballast-slo rules`). Do not edit: regenerate from the SLO specs.\n';

/**
 * Generates one Prometheus rules file for `slos`: per SLO, the error ratio over every alert window
 * (`slo:sli_error:ratio{window="<window>"}`: the pages' windows from `rate()` of the counters, the others from the
 * recorded 5m rates), the traffic-weighted
 * ratio over the period (from recorded 5m rates, never an average of ratios), metadata (`slo:objective:ratio`,
 * `slo:error_budget:ratio`, `slo:period:seconds`, `slo:period_burn_rate:ratio`,
 * `slo:period_error_budget_remaining:ratio`) and the multi-window, multi-burn-rate alerts
 * `<Service><Slo>BurnRatePage` and `<Service><Slo>BurnRateTicket` with labels `severity`, `slo`, `service` and
 * annotations `summary`, `description`, `runbook_url`. Each SLO gets one group for its SLI and alerts (so alerts
 * always see the ratios of the same evaluation) and one for its metadata.
 *
 * @throws TypeError when two SLOs share a name, or `slos` is not an array of SLOs.
 * @example
 * ```ts
 * import { defineSlo, generateRules } from '@ballast/slo';
 * const slo = defineSlo({
 *   service: 'checkout', name: 'checkout-availability', objective: 0.999, window: '30d',
 *   indicator: { bad: 'http_requests_total{job="checkout",code=~"5.."}', total: 'http_requests_total{job="checkout"}' },
 * });
 * const { yaml, alerts } = generateRules([slo], { runbookBaseUrl: 'https://runbooks.example.com' });
 * alerts[0].alert; // 'CheckoutAvailabilityBurnRatePage'
 * ```
 */
export function generateRules(slos: readonly Slo[], options: RulesOptions = {}): GeneratedRules {
  const given: unknown = slos;
  if (!Array.isArray(given)) throw invalidOption('slos', 'an array of SLOs', given);
  if (options.runbookBaseUrl !== undefined && typeof options.runbookBaseUrl !== 'string') {
    throw invalidOption('runbookBaseUrl', 'a string', options.runbookBaseUrl);
  }
  const seen = new Set<string>();
  for (const slo of slos) {
    if (seen.has(slo.name)) throw invalidOption('slos', 'SLOs with unique names', slo.name);
    seen.add(slo.name);
  }
  const groups = slos.flatMap((slo) => sloRuleGroups(slo, options));
  const alerts = groups.flatMap((g) =>
    g.rules.flatMap((r) =>
      'alert' in r
        ? [
            {
              alert: r.alert,
              slo: r.labels.slo!,
              service: r.labels.service!,
              severity: r.labels.severity as Severity,
            },
          ]
        : [],
    ),
  );
  const yaml = HEADER + stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false });
  return { yaml, groups, alerts };
}
