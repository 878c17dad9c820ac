/**
 * The shape of one operational alert: the Prometheus rule, the promtool test cases that prove it fires and
 * resolves, and the runbook an on-call engineer opens when it pages. All three live in one file per alert, so
 * they change together.
 */

/** Alert severities: `critical` pages, `warning` opens a ticket for working hours. */
export type AlertSeverity = 'critical' | 'warning';

/** A dashboard panel a runbook points to (checked by a test to exist). */
export interface PanelRef {
  /** The dashboard uid (`ballast-red`, `ballast-use`, `ballast-resilience`, …). */
  readonly dashboard: string;
  /** The panel title, exactly as on the dashboard. */
  readonly panel: string;
}

/** One diagnosis query: what it shows and the PromQL to paste into Prometheus or Grafana Explore. */
export interface DiagnosisQuery {
  readonly title: string;
  readonly expr: string;
}

/** One series of a promtool test (`series` in Prometheus notation, `values` in promtool's expanding notation). */
export interface TestSeries {
  readonly series: string;
  readonly values: string;
}

/** One promtool test: input series at `interval`, and when the alert must (and must not) be firing. */
export interface AlertTestCase {
  /** What the case proves (becomes a comment in the test file). */
  readonly name: string;
  /**
   * Time between two values of each series (rules are evaluated every 15 s).
   * @default '1m'
   * @example '15s'
   */
  readonly interval?: string;
  readonly series: readonly TestSeries[];
  /** Evaluation times (e.g. `10m`, `1m30s`) at which the alert fires with these labels (besides `severity`). */
  readonly firing: readonly { readonly at: string; readonly labels: Readonly<Record<string, string>> }[];
  /** Evaluation times at which the alert must not fire (before `for` elapsed, after the cause went away). */
  readonly quiet: readonly string[];
}

/** An operational alert with its tests and runbook. */
export interface AlertSpec {
  /** PascalCase alert name; also the runbook file name. */
  readonly name: string;
  readonly severity: AlertSeverity;
  readonly expr: string;
  /** How long the condition must hold, e.g. `5m`. */
  readonly for: string;
  /** Labels the rule adds besides `severity`. */
  readonly labels?: Readonly<Record<string, string>>;
  /** One line; may use `{{ $labels.x }}` only (so promtool tests can state the exact text). */
  readonly summary: string;
  /** A few sentences; may use `{{ $labels.x }}` only. */
  readonly description: string;
  readonly runbook: {
    readonly meaning: string;
    readonly impact: string;
    readonly queries: readonly DiagnosisQuery[];
    readonly panels: readonly PanelRef[];
    /** Shell commands against the service (the variables its `shell.env` sets). */
    readonly curl: readonly string[];
    /** Diagnosis steps in prose, after the queries. */
    readonly steps: readonly string[];
    /** Mitigation steps, most reversible first. */
    readonly mitigation: readonly string[];
    /** Shell commands for the mitigation (e.g. switching chaos off). */
    readonly mitigationCommands: readonly string[];
  };
  readonly tests: readonly AlertTestCase[];
}

/** Expands `{{ $labels.x }}` in an annotation template the way Prometheus does for these simple templates. */
export function expandTemplate(template: string, labels: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
}
