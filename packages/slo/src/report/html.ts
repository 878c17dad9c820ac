import Handlebars from 'handlebars';
import type { SloReport, SloReportEntry } from './model.js';
import { lineChart } from './charts.js';
import { formatTime, percent, rowCells } from './format.js';

const POLICY_LABEL = { ok: 'Healthy', warning: 'At risk', exhausted: 'Budget spent' } as const;

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{title}}</title>
<style>
:root { --ok: #1a7f37; --ok-bg: #dafbe1; --warning: #9a6700; --warning-bg: #fff8c5; --exhausted: #cf222e;
  --exhausted-bg: #ffebe9; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1160px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 18px 0 6px; }
.meta, .sub, .muted { color: var(--muted); }
.sub { font-size: 12px; }
.summary { display: flex; gap: 12px; margin: 18px 0 22px; flex-wrap: wrap; }
.tile { flex: 1 1 160px; border-radius: 8px; padding: 12px 16px; border: 1px solid var(--line); }
.tile .n { display: block; font-size: 28px; font-weight: 700; }
.tile.ok { background: var(--ok-bg); color: var(--ok); }
.tile.warning { background: var(--warning-bg); color: var(--warning); }
.tile.exhausted { background: var(--exhausted-bg); color: var(--exhausted); }
table { width: 100%; border-collapse: collapse; margin-bottom: 26px; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--line); padding: 8px 10px; }
td { border-bottom: 1px solid var(--line); padding: 9px 10px; vertical-align: top; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.ok td:first-child { box-shadow: inset 4px 0 var(--ok); }
tr.warning td:first-child { box-shadow: inset 4px 0 var(--warning); }
tr.exhausted td:first-child { box-shadow: inset 4px 0 var(--exhausted); }
a { color: inherit; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.warning { background: var(--warning-bg); color: var(--warning); }
.badge.exhausted { background: var(--exhausted-bg); color: var(--exhausted); }
.bar { width: 90px; height: 8px; border-radius: 4px; background: var(--panel); border: 1px solid var(--line); overflow: hidden; margin-bottom: 3px; }
.bar span { display: block; height: 100%; }
.ok .bar span { background: var(--ok); } .warning .bar span { background: var(--warning); } .exhausted .bar span { background: var(--exhausted); }
.card { border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-bottom: 18px; }
.card.ok { border-top: 4px solid var(--ok); } .card.warning { border-top: 4px solid var(--warning); } .card.exhausted { border-top: 4px solid var(--exhausted); }
.charts { display: flex; gap: 16px; flex-wrap: wrap; margin-top: 12px; }
.chart { flex: 1 1 340px; max-width: 540px; background: var(--panel); border-radius: 8px; }
.chart .chart-title { font-size: 11px; font-weight: 600; fill: var(--ink); }
.chart .axis, .chart .guide-label { font-size: 9px; fill: var(--muted); }
.chart .grid { stroke: var(--line); stroke-width: .5; }
.chart polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
.chart .line-budget { stroke: #0969da; } .chart circle.line-budget { fill: #0969da; }
.chart .line-sli { stroke: #8250df; } .chart circle.line-sli { fill: #8250df; }
.chart .guide-zero { stroke: var(--exhausted); stroke-width: 1; stroke-dasharray: 4 3; }
.chart .guide-even { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 2 3; }
.chart .guide-objective { stroke: var(--ok); stroke-width: 1; stroke-dasharray: 4 3; }
ul.alerts { margin: 0; padding-left: 18px; }
.sev { font-size: 11px; font-weight: 700; text-transform: uppercase; border-radius: 4px; padding: 0 5px; }
.sev.page { background: var(--exhausted-bg); color: var(--exhausted); } .sev.ticket { background: var(--warning-bg); color: var(--warning); }
footer { color: var(--muted); font-size: 12px; padding-bottom: 30px; }
@media print { .card { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>{{title}}</h1>
<p class="meta">Status at {{at}} · {{count}} service level objectives</p>
<div class="summary">
<div class="tile ok"><span class="n">{{summary.ok}}</span>healthy</div>
<div class="tile warning"><span class="n">{{summary.warning}}</span>at risk (little error budget left)</div>
<div class="tile exhausted"><span class="n">{{summary.exhausted}}</span>error budget spent</div>
</div>
</header>
<main>
<table>
<thead><tr><th>SLO</th><th>Objective</th><th>Period</th><th>SLI</th><th>Error budget left</th><th>Burn rate</th><th>Budget lasts</th><th>Alerts in period</th><th>Status</th></tr></thead>
<tbody>
{{#each rows}}
<tr class="{{policy}}"><td><a href="#{{anchor}}">{{name}}</a><div class="sub">{{service}}</div></td><td class="num">{{cells.objective}}</td><td>{{cells.window}}</td><td class="num">{{cells.sli}}</td><td class="num"><div class="bar"><span style="width: {{budgetWidth}}%"></span></div>{{cells.budget}}</td><td class="num">{{cells.burn}}</td><td class="num">{{cells.exhaustion}}</td><td>{{cells.alerts}}</td><td><span class="badge {{policy}}">{{policyLabel}}</span></td></tr>
{{/each}}
</tbody>
</table>
{{#each rows}}
<section class="card {{policy}}" id="{{anchor}}">
<h2>{{name}} <span class="badge {{policy}}">{{policyLabel}}</span></h2>
<p class="sub">{{service}} · objective {{cells.objective}} · {{cells.window}} · period {{periodStart}} to {{periodEnd}}</p>
{{#if description}}<p>{{description}}</p>{{/if}}
<div class="charts">{{{budgetChart}}}{{{sliChart}}}</div>
<h3>Alerts in this period</h3>
{{#if alerts.length}}<ul class="alerts">{{#each alerts}}<li><span class="sev {{severity}}">{{severity}}</span> {{start}} to {{end}} <span class="sub">{{name}} ({{conditions}})</span></li>{{/each}}</ul>{{else}}<p class="muted">No alert fired.</p>{{/if}}
</section>
{{/each}}
</main>
<footer>Generated by @ballast/slo from {{source}}. Error budget left: the share of the period's allowed failures not yet used. Burn rate: how fast the budget is being spent (1x spends it exactly over the period).</footer>
</body>
</html>
`;

const handlebars = Handlebars.create();
const template = handlebars.compile(TEMPLATE, { strict: true });

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 16 08:00` (UTC), for chart axes. */
function shortDate(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${d.toISOString().slice(11, 16)}`;
}

function charts(entry: SloReportEntry): { budgetChart: string; sliChart: string } {
  const { status, history } = entry;
  const x: [number, number] = [status.period.start, Math.max(status.period.end, status.at)];
  const budgets = history.map((p) => p.budgetRemaining);
  const budgetChart = lineChart({
    title: 'Error budget left',
    x,
    y: [Math.min(0, ...budgets), 1],
    series: [{ className: 'line-budget', points: history.map((p) => [p.at, p.budgetRemaining] as const) }],
    guides: [
      { from: [x[0], 0], to: [x[1], 0], className: 'guide-zero', label: 'spent' },
      ...(entry.slo.timeWindow.kind === 'calendar'
        ? [{ from: [x[0], 1] as const, to: [x[1], 0] as const, className: 'guide-even', label: '' }]
        : []),
    ],
    yLabel: (y) => percent(y, 0),
    xLabel: shortDate,
  });
  const slis = history.map((p) => p.sli).filter((s): s is number => s !== null);
  const budget = 1 - status.objective;
  const low = Math.max(0, Math.min(status.objective - 2 * budget, ...slis));
  const sliChart = lineChart({
    title: 'SLI (good / all)',
    x,
    y: [low, 1],
    series: [{ className: 'line-sli', points: history.map((p) => [p.at, p.sli] as const) }],
    guides: [
      {
        from: [x[0], status.objective],
        to: [x[1], status.objective],
        className: 'guide-objective',
        label: `objective ${percent(status.objective)}`,
      },
    ],
    yLabel: (y) => percent(y, 2),
    xLabel: shortDate,
  });
  return { budgetChart, sliChart };
}

/**
 * Renders a report as one self-contained HTML page: inline CSS, inline SVG charts (error budget left over the
 * period and the SLI over time, per SLO), a table of SLOs with status colours, budget left, burn rate, time to
 * exhaustion and alerts in the period. Every string from a spec is escaped by Handlebars (or by the chart
 * builder), and a Content-Security-Policy forbids scripts and remote resources.
 *
 * @example
 * ```ts
 * import { engineReport, renderHtmlReport } from '@ballast/slo';
 * writeFileSync('slo-report.html', renderHtmlReport(engineReport(slos, events)));
 * ```
 */
export function renderHtmlReport(report: SloReport): string {
  const rows = report.entries.map((entry) => {
    const { slo, status, alerts } = entry;
    return {
      anchor: `slo-${slo.name}`,
      name: slo.displayName,
      service: slo.service,
      description: slo.description,
      policy: status.policy,
      policyLabel: POLICY_LABEL[status.policy],
      cells: rowCells(status, alerts),
      budgetWidth: Math.round(Math.min(1, Math.max(0, status.errorBudget.remainingRatio)) * 100),
      periodStart: formatTime(status.period.start),
      periodEnd: formatTime(status.period.end),
      alerts: alerts.map((a) => ({
        severity: a.severity,
        name: a.name,
        conditions: a.conditions.join(', '),
        start: formatTime(a.start),
        end: a.end === null ? 'still firing' : formatTime(a.end),
      })),
      ...charts(entry),
    };
  });
  const count = (policy: string): number => rows.filter((r) => r.policy === policy).length;
  return template({
    title: report.title,
    at: formatTime(report.at),
    count: rows.length,
    source: report.source,
    summary: { ok: count('ok'), warning: count('warning'), exhausted: count('exhausted') },
    rows,
  });
}
