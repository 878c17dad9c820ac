/**
 * The typed model of a service level objective. The OpenSLO YAML loader ({@link parseSpecs}) and the typed API
 * ({@link defineSlo}) both produce these objects; the engine, the Prometheus rule generator and the reports
 * consume them. Every object is plain, immutable data: safe to serialise, compare and share.
 */

/**
 * How urgent an alert is: `page` wakes someone up, `ticket` is handled in working hours.
 * @example
 * ```ts
 * const severity: Severity = 'page';
 * ```
 */
export type Severity = 'page' | 'ticket';

/**
 * A Prometheus query for one count of events.
 *
 * - `selector`: a selector of counter series (`http_requests_total{job="api",code=~"5.."}`); generators wrap it
 *   as `sum(rate(<selector>[<window>]))`.
 * - `expression`: a full PromQL expression that contains the placeholder `{{.window}}`, replaced by the window
 *   (`sum(increase(x[{{.window}}])) - sum(increase(y[{{.window}}]))`).
 *
 * @example
 * ```ts
 * const source: PrometheusSource = { type: 'prometheus', kind: 'selector', query: 'http_requests_total{job="api"}' };
 * ```
 */
export interface PrometheusSource {
  readonly type: 'prometheus';
  readonly kind: 'selector' | 'expression';
  readonly query: string;
}

/**
 * A ratio indicator that counts good events: SLI = good / total.
 * @example
 * ```ts
 * const good: GoodRatioIndicator = defineSlo({ ...input, indicator: { good: 'ok_total', total: 'all_total' } }).indicator as GoodRatioIndicator;
 * ```
 */
export interface GoodRatioIndicator {
  readonly kind: 'ratio';
  readonly counts: 'good';
  readonly good: PrometheusSource;
  readonly total: PrometheusSource;
}

/**
 * A ratio indicator that counts bad events: SLI = 1 - bad / total.
 * @example
 * ```ts
 * if (slo.indicator.kind === 'ratio' && slo.indicator.counts === 'bad') console.log(slo.indicator.bad.query);
 * ```
 */
export interface BadRatioIndicator {
  readonly kind: 'ratio';
  readonly counts: 'bad';
  readonly bad: PrometheusSource;
  readonly total: PrometheusSource;
}

/**
 * A ratio of good (or bad) events to all events.
 * @example
 * ```ts
 * if (slo.indicator.kind === 'ratio') console.log(slo.indicator.total.query);
 * ```
 */
export type RatioIndicator = GoodRatioIndicator | BadRatioIndicator;

/**
 * A latency indicator read from a Prometheus histogram: good events are the observations in the bucket whose
 * `le` label is the threshold (`<histogram>_bucket{<matchers>,le="<le>"}`), total events are
 * `<histogram>_count{<matchers>}`. In the engine, an event is good when its duration is `<= threshold`.
 * @example
 * ```ts
 * if (slo.indicator.kind === 'latency') console.log(`${slo.indicator.histogram}_bucket{le="${slo.indicator.le}"}`);
 * ```
 */
export interface LatencyIndicator {
  readonly kind: 'latency';
  /** The histogram's base metric name, without the `_bucket`/`_count` suffix. */
  readonly histogram: string;
  /** The label matchers without braces (`job="api",route="/pay"`), `''` when there are none. */
  readonly matchers: string;
  /** The threshold in the histogram's unit (seconds for `*_seconds` histograms). */
  readonly threshold: number;
  /** The threshold as the `le` label value of the bucket (`String(threshold)`, e.g. `0.3`). */
  readonly le: string;
}

/**
 * What an SLO measures.
 * @example
 * ```ts
 * const kind: Indicator['kind'] = slo.indicator.kind; // 'ratio' | 'latency'
 * ```
 */
export type Indicator = RatioIndicator | LatencyIndicator;

/**
 * A window that always covers the last `duration` (e.g. `28d`, `30d`).
 * @example
 * ```ts
 * const window: RollingWindow = { kind: 'rolling', duration: '28d', durationMs: 28 * 86_400_000 };
 * ```
 */
export interface RollingWindow {
  readonly kind: 'rolling';
  /** The duration as written (`30d`). */
  readonly duration: string;
  readonly durationMs: number;
}

/**
 * The calendar units a calendar window can span. Weeks start on Monday (ISO 8601).
 * @example
 * ```ts
 * const unit: CalendarUnit = 'month';
 * ```
 */
export type CalendarUnit = 'day' | 'week' | 'month' | 'quarter' | 'year';

/**
 * A window that resets at each calendar period boundary (midnight of the 1st for months) in `timeZone`.
 * @example
 * ```ts
 * const window: CalendarWindow = { kind: 'calendar', unit: 'month', duration: '1M', timeZone: 'Europe/Berlin' };
 * ```
 */
export interface CalendarWindow {
  readonly kind: 'calendar';
  readonly unit: CalendarUnit;
  /** The duration as written in OpenSLO notation: `1d`, `1w`, `1M`, `1Q`, `1Y`. */
  readonly duration: string;
  /** An IANA time zone (`Europe/Berlin`). @default 'UTC' */
  readonly timeZone: string;
}

/**
 * The period over which the objective and the error budget are counted.
 * @example
 * ```ts
 * const label = slo.timeWindow.kind === 'rolling' ? slo.timeWindow.duration : slo.timeWindow.timeZone;
 * ```
 */
export type TimeWindow = RollingWindow | CalendarWindow;

/**
 * Budget counted in events: the SLI is good events / all events over the window.
 * @example
 * ```ts
 * const budgeting: OccurrencesBudgeting = { method: 'Occurrences' };
 * ```
 */
export interface OccurrencesBudgeting {
  readonly method: 'Occurrences';
}

/**
 * Budget counted in time slices: each slice of `timesliceWindow` is good when its own ratio of good events is at
 * least `timesliceTarget`; the SLI is good slices / slices with events. Slices without events are not counted.
 * @example
 * ```ts
 * const budgeting: TimeslicesBudgeting = { method: 'Timeslices', timesliceTarget: 0.95, timesliceWindow: '1m', timesliceWindowMs: 60_000 };
 * ```
 */
export interface TimeslicesBudgeting {
  readonly method: 'Timeslices';
  /** The ratio of good events that makes one slice good, in (0, 1]. */
  readonly timesliceTarget: number;
  /** The slice length as written (`1m`). */
  readonly timesliceWindow: string;
  readonly timesliceWindowMs: number;
}

/**
 * How the error budget is counted.
 * @example
 * ```ts
 * const method: Budgeting['method'] = slo.budgeting.method; // 'Occurrences' | 'Timeslices'
 * ```
 */
export type Budgeting = OccurrencesBudgeting | TimeslicesBudgeting;

/**
 * One multi-window, multi-burn-rate alert condition (SRE Workbook, "Alerting on SLOs", recipe 6): it fires
 * while the burn rate over `longWindow` AND the burn rate over `shortWindow` are both strictly greater than
 * `burnRate`, and each window holds at least the SLO's `minEvents` events.
 * @example
 * ```ts
 * const [fastPage] = defaultAlertWindows('30d'); // { severity: 'page', burnRate: 14.4, longWindow: '1h', shortWindow: '5m', ... }
 * ```
 */
export interface BurnRateCondition {
  /** Unique within the SLO (`page-1h` for the defaults). */
  readonly name: string;
  readonly severity: Severity;
  /** The burn-rate threshold: 1 spends exactly the budget over the SLO period. */
  readonly burnRate: number;
  /** Prometheus duration (`1h`). */
  readonly longWindow: string;
  readonly longWindowMs: number;
  /** Prometheus duration (`5m`), shorter than `longWindow`; makes the alert resolve soon after recovery. */
  readonly shortWindow: string;
  readonly shortWindowMs: number;
  /** How long the condition must hold before the alert fires (Prometheus `for`), when set. */
  readonly for?: string;
}

/**
 * The alerting policy of one SLO.
 * @example
 * ```ts
 * const { conditions, minEvents } = slo.alerting;
 * ```
 */
export interface Alerting {
  /** The conditions; the Workbook defaults scaled to the SLO period when the spec names none. */
  readonly conditions: readonly BurnRateCondition[];
  /** Low-traffic guard: each window of a condition needs at least this many events before it may fire. @default 0 */
  readonly minEvents: number;
}

/**
 * Where a spec object came from (set by the YAML loader).
 * @example
 * ```ts
 * if (slo.source) console.log(`${slo.source.file}:${slo.source.line}`);
 * ```
 */
export interface SpecLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * Where an objective of an SLO document with several objectives (OpenSLO `objectives: [...]`) came from. Each
 * objective is its own {@link Slo}, named `<document>-<objective>`, with its own error budget, series, alerts and
 * report line; this says which document and objective it is.
 * @example
 * ```ts
 * if (slo.objectiveOf) console.log(`${slo.objectiveOf.slo}, objective ${slo.objectiveOf.objective}`);
 * ```
 */
export interface ObjectiveOf {
  /** The SLO document's name (`search-latency`); recording events under it records them for every objective. */
  readonly slo: string;
  /** The objective's key: its `name`, else its display name in kebab case, else its position from 1. */
  readonly objective: string;
  /** The objective's position in the document, from 0. */
  readonly index: number;
}

/**
 * One service level objective.
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
 * });
 * ```
 */
export interface Slo {
  readonly service: string;
  /** Unique among the SLOs loaded together; a Prometheus label value. */
  readonly name: string;
  /** @default name */
  readonly displayName: string;
  /** @default '' */
  readonly description: string;
  /** The target ratio of good events (or slices), in (0, 1): `0.999` for "three nines". */
  readonly objective: number;
  readonly timeWindow: TimeWindow;
  readonly budgeting: Budgeting;
  readonly indicator: Indicator;
  readonly alerting: Alerting;
  /** Labels copied to generated series and alerts. @default {} */
  readonly labels: Readonly<Record<string, string>>;
  /** Set for SLOs loaded from a file. */
  readonly source?: SpecLocation;
  /** Set for one objective of a document with several: the document and the objective. */
  readonly objectiveOf?: ObjectiveOf;
}

const DAY_MS = 86_400_000;

/** Nominal calendar period lengths, used to scale alert windows (a month counts as 30 days). */
const NOMINAL_MS: Readonly<Record<CalendarUnit, number>> = {
  day: DAY_MS,
  week: 7 * DAY_MS,
  month: 30 * DAY_MS,
  quarter: 91 * DAY_MS,
  year: 365 * DAY_MS,
};

/** The longest a calendar period can be (months 31 days, plus one DST hour; leap years 366 days). */
const LONGEST_MS: Readonly<Record<CalendarUnit, number>> = {
  day: DAY_MS + 3_600_000,
  week: 7 * DAY_MS + 3_600_000,
  month: 31 * DAY_MS + 3_600_000,
  quarter: 92 * DAY_MS + 3_600_000,
  year: 366 * DAY_MS + 3_600_000,
};

/**
 * The nominal length of an SLO period in milliseconds: the rolling duration, or 1d/7d/30d/91d/365d for
 * calendar days, weeks, months, quarters and years. Alert windows and burn rates are scaled to it.
 *
 * @example
 * ```ts
 * import { periodMs } from '@ballast/slo';
 * periodMs({ kind: 'calendar', unit: 'month', duration: '1M', timeZone: 'UTC' }); // 2_592_000_000
 * ```
 */
export function periodMs(window: TimeWindow): number {
  return window.kind === 'rolling' ? window.durationMs : NOMINAL_MS[window.unit];
}

/**
 * The longest the period can be in milliseconds (31 days and one DST hour for a calendar month); the engine
 * sizes its ring buffer with it.
 *
 * @example
 * ```ts
 * import { longestPeriodMs } from '@ballast/slo';
 * longestPeriodMs({ kind: 'rolling', duration: '28d', durationMs: 2_419_200_000 }); // 2_419_200_000
 * ```
 */
export function longestPeriodMs(window: TimeWindow): number {
  return window.kind === 'rolling' ? window.durationMs : LONGEST_MS[window.unit];
}
