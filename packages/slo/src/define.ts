import { checkNumber, checkOneOf, invalidOption } from '@ballast/core';
import { DateTime } from 'luxon';
import { defaultAlertWindows } from './alert-windows.js';
import { formatDuration, parseDuration } from './duration.js';
import type {
  Alerting,
  Budgeting,
  BurnRateCondition,
  CalendarUnit,
  Indicator,
  ObjectiveOf,
  PrometheusSource,
  Severity,
  Slo,
  SpecLocation,
  TimeWindow,
} from './model.js';
import { prometheusSource } from './promql.js';

/**
 * The indicator of {@link SloInput}: counts of good (or bad) events and all events as Prometheus queries, or a
 * latency threshold on a Prometheus histogram.
 *
 * @example
 * ```ts
 * const availability: IndicatorInput = { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' };
 * const latency: IndicatorInput = { latency: { histogram: 'http_request_duration_seconds{job="api"}', threshold: 0.3 } };
 * ```
 */
export type IndicatorInput =
  | { readonly good: string; readonly total: string }
  | { readonly bad: string; readonly total: string }
  | { readonly latency: { readonly histogram: string; readonly threshold: number } };

/**
 * The window of {@link SloInput}: a rolling duration (`'30d'` or `{ rolling: '30d' }`) or a calendar period.
 *
 * @example
 * ```ts
 * const rolling: WindowInput = '28d';
 * const calendar: WindowInput = { calendar: 'month', timeZone: 'Europe/Berlin' };
 * ```
 */
export type WindowInput =
  string | { readonly rolling: string } | { readonly calendar: CalendarUnit; readonly timeZone?: string };

/**
 * One alert condition of {@link SloInput}.
 *
 * @example
 * ```ts
 * const fast: AlertConditionInput = { severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m' };
 * ```
 */
export interface AlertConditionInput {
  /** @default `<severity>-<longWindow>` */
  readonly name?: string;
  readonly severity: Severity;
  readonly burnRate: number;
  readonly longWindow: string;
  /** @default longWindow / 12 (the Workbook's ratio) */
  readonly shortWindow?: string;
  /** Prometheus `for` duration. */
  readonly for?: string;
}

/**
 * What {@link defineSlo} takes.
 *
 * @example
 * ```ts
 * const input: SloInput = {
 *   service: 'checkout',
 *   name: 'checkout-latency',
 *   objective: 0.99,
 *   window: { calendar: 'month', timeZone: 'Europe/Berlin' },
 *   indicator: { latency: { histogram: 'http_request_duration_seconds{job="checkout"}', threshold: 0.3 } },
 * };
 * ```
 */
export interface SloInput {
  readonly service: string;
  readonly name: string;
  /** @default name */
  readonly displayName?: string;
  /** @default '' */
  readonly description?: string;
  /** Target ratio of good events, in (0, 1). */
  readonly objective: number;
  readonly window: WindowInput;
  readonly indicator: IndicatorInput;
  /** @default 'Occurrences' */
  readonly budgeting?:
    'Occurrences' | { readonly timeslices: { readonly target: number; readonly window: string } };
  /** @default the Workbook conditions scaled to the period ({@link defaultAlertWindows}), minEvents 0 */
  readonly alerting?: {
    readonly conditions?: readonly AlertConditionInput[];
    readonly minEvents?: number;
  };
  /** @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** Where the spec came from (set by the YAML loader). */
  readonly source?: SpecLocation;
  /**
   * For one objective of an SLO with several: the group's name and this objective's key. The engine then also
   * records events given under `objectiveOf.slo` for this SLO (one call records every objective of the group).
   * @default undefined
   */
  readonly objectiveOf?: ObjectiveOf;
}

/** A Prometheus label value and metric-friendly name: letters, digits, `_`, `-`, `.`, 1-63 characters. */
const NAME = /^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$/;
const HISTOGRAM = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*?)(?:_bucket)?\s*(?:\{(.*)\})?\s*$/s;
const CALENDAR_UNITS: readonly CalendarUnit[] = ['day', 'week', 'month', 'quarter', 'year'];
const CALENDAR_NOTATION: Readonly<Record<CalendarUnit, string>> = {
  day: '1d',
  week: '1w',
  month: '1M',
  quarter: '1Q',
  year: '1Y',
};

function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalidOption(
      field,
      'a name of 1-63 letters, digits, `_`, `-` or `.` starting and ending with a letter or digit',
      value,
    );
  }
  return value;
}

function checkDuration(field: string, value: unknown): number {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) throw invalidOption(field, 'a duration such as `5m`, `1h` or `30d`', value);
  return ms;
}

function checkSource(field: string, value: unknown): PrometheusSource {
  const source = typeof value === 'string' ? prometheusSource(value) : undefined;
  if (!source) {
    throw invalidOption(
      field,
      'a counter selector such as `http_requests_total{code=~"5.."}` or a PromQL expression containing `{{.window}}`',
      value,
    );
  }
  return source;
}

/**
 * True when `zone` is an IANA time zone luxon knows.
 * @example
 * ```ts
 * isValidTimeZone('Europe/Berlin'); // true
 * isValidTimeZone('Mars/Olympus'); // false
 * ```
 */
export function isValidTimeZone(zone: string): boolean {
  return DateTime.local({ zone }).isValid;
}

/**
 * Parses a histogram selector (`http_request_duration_seconds_bucket{job="api"}` or without `_bucket`) into its
 * base name and matchers; `undefined` when it is not a plain selector.
 * @example
 * ```ts
 * parseHistogramSelector('http_request_duration_seconds_bucket{job="api"}');
 * // { histogram: 'http_request_duration_seconds', matchers: 'job="api"' }
 * ```
 */
export function parseHistogramSelector(
  text: string,
): { readonly histogram: string; readonly matchers: string } | undefined {
  const match = HISTOGRAM.exec(text);
  if (!match || !prometheusSource(text) || prometheusSource(text)?.kind !== 'selector') return undefined;
  return { histogram: match[1]!, matchers: (match[2] ?? '').trim() };
}

function buildWindow(value: WindowInput): TimeWindow {
  if (typeof value === 'string' || (typeof value === 'object' && value !== null && 'rolling' in value)) {
    const duration = typeof value === 'string' ? value : value.rolling;
    const durationMs = checkDuration('window', duration);
    return { kind: 'rolling', duration, durationMs };
  }
  if (typeof value !== 'object' || value === null || !('calendar' in value)) {
    throw invalidOption('window', "a duration such as '30d', { rolling } or { calendar, timeZone }", value);
  }
  const unit = checkOneOf('window.calendar', value.calendar, CALENDAR_UNITS, 'month');
  const timeZone = value.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string' || !isValidTimeZone(timeZone)) {
    throw invalidOption('window.timeZone', 'an IANA time zone such as `Europe/Berlin`', timeZone);
  }
  return { kind: 'calendar', unit, duration: CALENDAR_NOTATION[unit], timeZone };
}

function buildIndicator(value: IndicatorInput): Indicator {
  if (typeof value !== 'object' || value === null) {
    throw invalidOption('indicator', '{ good, total }, { bad, total } or { latency }', value);
  }
  if ('latency' in value) {
    const { histogram, threshold } = value.latency;
    const parsed = typeof histogram === 'string' ? parseHistogramSelector(histogram) : undefined;
    if (!parsed) {
      throw invalidOption(
        'indicator.latency.histogram',
        'a histogram selector such as `http_request_duration_seconds{job="api"}`',
        histogram,
      );
    }
    const t = checkNumber('indicator.latency.threshold', threshold, 0, { above: 0 });
    return { kind: 'latency', ...parsed, threshold: t, le: String(t) };
  }
  const total = checkSource('indicator.total', (value as { total?: unknown }).total);
  if ('good' in value && 'bad' in value) {
    throw invalidOption('indicator', 'either `good` or `bad`, not both', value);
  }
  if ('good' in value) {
    return { kind: 'ratio', counts: 'good', good: checkSource('indicator.good', value.good), total };
  }
  if ('bad' in value) {
    return { kind: 'ratio', counts: 'bad', bad: checkSource('indicator.bad', value.bad), total };
  }
  throw invalidOption('indicator', '{ good, total }, { bad, total } or { latency }', value);
}

function buildBudgeting(value: SloInput['budgeting']): Budgeting {
  if (value === undefined || value === 'Occurrences') return { method: 'Occurrences' };
  if (typeof value !== 'object' || value === null || typeof value.timeslices !== 'object') {
    throw invalidOption('budgeting', "'Occurrences' or { timeslices: { target, window } }", value);
  }
  const target = checkNumber('budgeting.timeslices.target', value.timeslices.target, 0, {
    above: 0,
    max: 1,
  });
  const timesliceWindowMs = checkDuration('budgeting.timeslices.window', value.timeslices.window);
  return {
    method: 'Timeslices',
    timesliceTarget: target,
    timesliceWindow: value.timeslices.window,
    timesliceWindowMs,
  };
}

function buildCondition(value: AlertConditionInput, i: number): BurnRateCondition {
  const at = `alerting.conditions[${i}]`;
  const severity = checkOneOf(`${at}.severity`, value.severity, ['page', 'ticket'] as const, 'page');
  if (value.severity === undefined) throw invalidOption(`${at}.severity`, "'page' or 'ticket'", undefined);
  const burnRate = checkNumber(`${at}.burnRate`, value.burnRate, NaN, { above: 0 });
  if (Number.isNaN(burnRate)) throw invalidOption(`${at}.burnRate`, 'a finite number > 0', undefined);
  const longWindowMs = checkDuration(`${at}.longWindow`, value.longWindow);
  const shortWindowMs =
    value.shortWindow === undefined
      ? Math.max(1000, Math.round(longWindowMs / 12 / 1000) * 1000)
      : checkDuration(`${at}.shortWindow`, value.shortWindow);
  if (shortWindowMs >= longWindowMs) {
    throw invalidOption(
      `${at}.shortWindow`,
      `a duration shorter than longWindow (${value.longWindow})`,
      value.shortWindow,
    );
  }
  if (value.for !== undefined) checkDuration(`${at}.for`, value.for);
  const name =
    value.name === undefined ? `${severity}-${value.longWindow}` : checkName(`${at}.name`, value.name);
  return {
    name,
    severity,
    burnRate,
    longWindow: value.longWindow,
    longWindowMs,
    shortWindow: value.shortWindow ?? formatDuration(shortWindowMs),
    shortWindowMs,
    ...(value.for === undefined ? {} : { for: value.for }),
  };
}

function buildAlerting(value: SloInput['alerting'], window: TimeWindow): Alerting {
  const minEvents = checkNumber('alerting.minEvents', value?.minEvents, 0, { integer: true, min: 0 });
  const input = value?.conditions;
  if (input === undefined) return { conditions: defaultAlertWindows(window), minEvents };
  if (!Array.isArray(input)) throw invalidOption('alerting.conditions', 'an array of conditions', input);
  const conditions = input.map(buildCondition);
  const seen = new Set<string>();
  for (const [i, c] of conditions.entries()) {
    if (seen.has(c.name))
      throw invalidOption(`alerting.conditions[${i}].name`, 'a unique condition name', c.name);
    seen.add(c.name);
  }
  return { conditions, minEvents };
}

/**
 * Builds and validates an {@link Slo} from the typed API: the same model the OpenSLO YAML loader produces.
 * Throws a `TypeError` in the ``Expected `field` to be …, got `…` `` template for the first bad field.
 *
 * @example
 * ```ts
 * import { defineSlo } from '@ballast/slo';
 * const slo = defineSlo({
 *   service: 'checkout',
 *   name: 'checkout-availability',
 *   objective: 0.999,
 *   window: '30d',
 *   indicator: { bad: 'http_requests_total{job="checkout",code=~"5.."}', total: 'http_requests_total{job="checkout"}' },
 *   alerting: { minEvents: 20 },
 * });
 * slo.alerting.conditions.length; // 4 (the Workbook defaults)
 * ```
 */
export function defineSlo(input: SloInput): Slo {
  if (typeof input !== 'object' || input === null) throw invalidOption('slo', 'an object', input);
  const service = checkName('service', input.service);
  const name = checkName('name', input.name);
  const objective = checkNumber('objective', input.objective, NaN, { above: 0 });
  if (!(objective < 1)) throw invalidOption('objective', 'a finite number > 0 and < 1', input.objective);
  const timeWindow = buildWindow(input.window);
  const budgeting = buildBudgeting(input.budgeting);
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.labels ?? {})) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key)) {
      throw invalidOption(`labels`, 'Prometheus label names (letters, digits, `_`)', key);
    }
    if (typeof value !== 'string') throw invalidOption(`labels.${key}`, 'a string', value);
    labels[key] = value;
  }
  if (input.displayName !== undefined && typeof input.displayName !== 'string') {
    throw invalidOption('displayName', 'a string', input.displayName);
  }
  if (input.description !== undefined && typeof input.description !== 'string') {
    throw invalidOption('description', 'a string', input.description);
  }
  return {
    service,
    name,
    displayName: input.displayName ?? name,
    description: input.description ?? '',
    objective,
    timeWindow,
    budgeting,
    indicator: buildIndicator(input.indicator),
    alerting: buildAlerting(input.alerting, timeWindow),
    labels,
    ...(input.source === undefined ? {} : { source: input.source }),
    ...(input.objectiveOf === undefined ? {} : { objectiveOf: buildObjectiveOf(input.objectiveOf, name) }),
  };
}

function buildObjectiveOf(value: ObjectiveOf, name: string): ObjectiveOf {
  if (typeof value !== 'object' || value === null) {
    throw invalidOption('objectiveOf', '{ slo, objective, index }', value);
  }
  const slo = checkName('objectiveOf.slo', value.slo);
  if (slo === name) throw invalidOption('objectiveOf.slo', `a group name other than the SLO's own`, slo);
  if (typeof value.objective !== 'string' || value.objective === '') {
    throw invalidOption('objectiveOf.objective', 'a non-empty string', value.objective);
  }
  const index = checkNumber('objectiveOf.index', value.index, 0, { min: 0, integer: true });
  return { slo, objective: value.objective, index };
}
