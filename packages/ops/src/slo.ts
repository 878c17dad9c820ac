import { SLO_RECORDS, errorRatioSelector, generateRules, generateRuleTests, type Slo } from '@ballast/slo';
import type { RunbookPage } from './runbooks/render.js';

/** What the SLO part of `generate` produces. */
export interface SloArtifacts {
  readonly slos: readonly Slo[];
  /** The recording and burn-rate alerting rules file. */
  readonly rules: string;
  /** The rule groups of that file (for the PrometheusRule resource). */
  readonly groups: readonly unknown[];
  /** promtool test files (and the synthetic rule files some load), paths relative to the tests directory. */
  readonly tests: readonly { readonly path: string; readonly content: string }[];
  /** One runbook page per burn-rate alert (generic: the service's hints are merged by the caller). */
  readonly runbooks: readonly (RunbookPage & { readonly slo: string })[];
}

/**
 * Turns SLOs into Prometheus rules, promtool tests (each with the rules file it loads) and runbooks with
 * `@ballast/slo`'s generator. `runbookBaseUrl` is the prefix before `runbooks/<AlertName>.md`; `source` says where
 * the rules file is.
 */
export function sloArtifacts(slos: readonly Slo[], runbookBaseUrl: string, source: string): SloArtifacts {
  const generated = generateRules(slos, { runbookBaseUrl });
  const tests = generateRuleTests(slos, { runbookBaseUrl }).map((f) => ({
    path: f.path,
    content: f.content,
  }));
  const runbooks = generated.alerts.map(({ alert, slo: name, severity }) => {
    const slo = slos.find((s) => s.name === name)!;
    const rule = generated.groups.flatMap((g) => g.rules).find((r) => 'alert' in r && r.alert === alert);
    const labels = rule && 'labels' in rule && rule.labels ? Object.keys(rule.labels) : [];
    return {
      ...sloRunbook(slo, alert, severity, rule?.expr ?? '', source, siblings(slos, slo)),
      labels: labels.filter((l) => l !== 'severity'),
      slo: slo.name,
    };
  });
  return { slos, rules: generated.yaml, groups: generated.groups, tests, runbooks };
}

function promNumber(value: number): string {
  return String(Number(value.toPrecision(12)));
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(10))}%`;
}

/**
 * The histogram buckets whose exemplars are this SLO's requests: `<histogram>_bucket{...}` of a latency SLI, or
 * the first selector of a ratio SLI's `total` when it is the `_count` or `_bucket` of `@ballast/telemetry`'s
 * request histogram (`http_server_request_duration_seconds`, whose buckets carry exemplars). `undefined` otherwise:
 * the service file's `exemplars` hint names one.
 */
export function exemplarSelector(slo: Slo): string | undefined {
  const indicator = slo.indicator;
  if (indicator.kind === 'latency')
    return `${indicator.histogram}_bucket${indicator.matchers ? `{${indicator.matchers}}` : ''}`;
  if (indicator.kind !== 'ratio') return undefined;
  const match = /([a-zA-Z_:][a-zA-Z0-9_:]*)_(count|bucket)(\{[^}]*\})?/.exec(indicator.total.query);
  // Only the request histogram of `@ballast/telemetry` is known to carry exemplars; name others in the service file.
  if (!match || match[1] !== 'http_server_request_duration_seconds') return undefined;
  // A bucket selector without `le` (every bucket of the SLO's requests), bad answers first where the SLI names a status.
  const matchers = (match[3] ?? '{}').replace(/,?\s*le\s*=\s*"[^"]*"/, '').replace(/^\{,/, '{');
  return `${match[1]}_bucket${matchers === '{}' ? '' : matchers}`;
}

/** The other objectives of the SLO document `slo` is one objective of (none for a single-objective SLO). */
function siblings(slos: readonly Slo[], slo: Slo): Slo[] {
  const group = slo.objectiveOf?.slo;
  return group === undefined ? [] : slos.filter((s) => s.objectiveOf?.slo === group && s !== slo);
}

function sloRunbook(
  slo: Slo,
  alert: string,
  severity: string,
  expr: string,
  source: string,
  others: readonly Slo[],
): RunbookPage {
  const sel = `{slo="${slo.name}"}`;
  const exemplars = exemplarSelector(slo);
  const objectiveText =
    slo.objectiveOf === undefined
      ? ''
      : ` It is objective \`${slo.objectiveOf.objective}\` of the SLO \`${slo.objectiveOf.slo}\`` +
        (others.length === 0
          ? '.'
          : `, whose other objectives (${others.map((o) => `\`${o.name}\` at ${percent(o.objective)}`).join(', ')}) have their own budgets and alerts: a burn that pages the strictest objective may only ticket, or not touch, a looser one.`);
  const groupQuery =
    others.length === 0
      ? []
      : [
          {
            title: `Error budget left of every objective of \`${slo.objectiveOf!.slo}\` (recorded)`,
            expr: `${SLO_RECORDS.budgetRemaining}{slo=~"${[slo, ...others].map((o) => o.name.replace(/\./g, '\\\\.')).join('|')}"}`,
          },
        ];
  const conditions = slo.alerting.conditions.filter((c) => c.severity === severity);
  const windows = conditions
    .map((c) => `${c.burnRate}x over ${c.longWindow} and ${c.shortWindow}`)
    .join(', or ');
  return {
    name: alert,
    severity,
    summary: `${slo.displayName} is burning its error budget too fast`,
    expr,
    source,
    ...(exemplars ? { exemplars } : {}),
    runbook: {
      meaning:
        `SLO **${slo.displayName}** (\`${slo.name}\`, service \`${slo.service}\`) promises ${percent(slo.objective)} good events.${objectiveText} ` +
        `Its error ratio has been above the error budget times ${windows}: a long window proves the burn is real, a short ` +
        `one proves it is still going on. ${severity === 'page' ? 'At this rate a large share of the budget is gone within hours: act now.' : 'At this rate the budget runs out before the period ends: fix it in working hours.'}`,
      impact:
        slo.description || `Users of ${slo.service} get bad answers more often than the objective allows.`,
      queries: [
        ...[...new Set(conditions.flatMap((c) => [c.longWindow, c.shortWindow]))].map((w) => ({
          title: `Error ratio over ${w} (recorded, held to the history Prometheus has; the alert compares it with ${conditions.map((c) => `${c.burnRate} x ${promNumber(1 - slo.objective)}`).join(' or ')})`,
          expr: errorRatioSelector(w, { slo: slo.name }),
        })),
        {
          title:
            'History behind the alerts (1 = every window covered; below 1 the alerts are held: insufficient history, the missing part counts as good)',
          expr: `${SLO_RECORDS.alertHistoryCoverage}${sel}`,
        },
        { title: 'Error budget left (recorded)', expr: `${SLO_RECORDS.budgetRemaining}${sel}` },
        ...groupQuery,
        {
          title:
            'Share of the period the recorded budget covers (below 1, the recorded budget speaks only of that share of the period)',
          expr: `${SLO_RECORDS.periodCoverage}${sel}`,
        },
        {
          title: 'Error budget left (the service itself)',
          expr: `ballast_slo_error_budget_remaining_ratio${sel}`,
        },
      ],
      panels: [
        { dashboard: 'ballast-slo-detail', panel: 'SLI vs objective' },
        { dashboard: 'ballast-slo-detail', panel: 'Multi-window burn rates' },
      ],
      curl: [],
      steps: [
        `Open the SLO detail dashboard with \`slo = ${slo.name}\`: is the burn still going on (short window up) or already over?`,
        `Two figures answer "how much budget is left", and they differ: \`${SLO_RECORDS.budgetRemaining}\` is Prometheus's, over every instance and the whole ${slo.timeWindow.duration} period, but only over the data Prometheus holds: \`${SLO_RECORDS.periodCoverage}\` is the share of the period it covers. \`ballast_slo_error_budget_remaining_ratio\` is one instance's own engine, over the requests that instance served since it started (the service's \`/slo\` page shows it). With coverage at 1, trust the recorded figure; below 1 it speaks of that share only and looks fuller than the period would, so read it with its coverage.`,
      ],
      mitigation: [
        'When the burn is over, note the budget spent; if the budget is exhausted, the error budget policy applies (freeze risky changes until it recovers; `ballast-slo gate` in the deploy pipeline enforces it).',
      ],
      mitigationCommands: [],
    },
  };
}
