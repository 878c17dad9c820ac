import Handlebars from 'handlebars';
import type { SloReport } from './slo-view.js';

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<title>{{service}} · SLO status</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2330; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #dde1e8; }
  th { font-weight: 600; color: #4a5366; }
  td.num { font-variant-numeric: tabular-nums; text-align: right; }
  .policy { font-weight: 600; border-radius: .3rem; padding: .1rem .45rem; }
  .ok { background: #e3f5e8; color: #17602c; }
  .warning { background: #fff3d6; color: #7a5200; }
  .exhausted, .local-fallback { background: #fde2e1; color: #8d1c17; }
  .source { border-radius: .3rem; padding: .1rem .45rem; }
  .bar { background: #eef0f4; height: .55rem; border-radius: .3rem; width: 10rem; }
  .bar > span { display: block; height: 100%; border-radius: .3rem; background: #3b7be0; }
</style>
</head>
<body>
<h1>{{service}}: service level objectives</h1>
<p>Read at {{generatedAt}} from
{{#if source}}<strong class="source {{source.kind}}">{{source.kind}}</strong>: {{source.reason}}{{#if source.readAt}} (last answer {{source.readAt}}){{/if}}.{{else}}the in-process SLO engine.{{/if}}
JSON: <a href="/api/v1/slo">/api/v1/slo</a>.</p>
{{#if source.state}}<p>Engine state: {{source.state}}.</p>{{/if}}
<table>
  <thead><tr><th>SLO</th><th>Objective</th><th>SLI</th><th>Error budget left</th><th></th><th>Policy</th></tr></thead>
  <tbody>
  {{#each slos}}
    <tr>
      <td><strong>{{displayName}}</strong><br><code>{{name}}</code></td>
      <td class="num">{{percent objective}}</td>
      <td class="num">{{#if hasSli}}{{percent sli}}{{else}}no events yet{{/if}}</td>
      <td class="num">{{percent errorBudgetRemaining}}</td>
      <td><div class="bar"><span style="width: {{barWidth errorBudgetRemaining}}%"></span></div></td>
      <td><span class="policy {{policy}}">{{policy}}</span></td>
    </tr>
  {{else}}
    <tr><td colspan="6">No SLOs loaded.</td></tr>
  {{/each}}
  </tbody>
</table>
<h2>Which "budget left" to trust</h2>
<p>This page's figure is this instance's own engine: the requests <em>this instance</em> served since it started
(<code>ballast_slo_error_budget_remaining_ratio</code>). Prometheus records a second one over every instance and the
whole period, <code>slo:period_error_budget_remaining:ratio</code>, but it can only count the data it holds:
<code>slo:period_coverage:ratio</code> says which share of the period that is. With coverage at 1, trust
Prometheus's figure (the fleet, the full period; the error budget policy and <code>ballast-slo gate</code> read it).
Below 1 (a young Prometheus, a retention shorter than the period, a gap), it speaks of that share only and looks
fuller than the period would: read it with its coverage, and use this page for this instance's recent traffic.</p>
</body>
</html>
`;

/**
 * Renders the HTML SLO status page with handlebars. The template escapes every value (handlebars' default), and
 * is compiled once.
 *
 * @example
 * ```ts
 * const render = sloPageRenderer();
 * res.type('html').send(render(report, new Date()));
 * ```
 */
export function sloPageRenderer(): (report: SloReport, now: Date) => string {
  const hbs = Handlebars.create();
  hbs.registerHelper('percent', (value: unknown) =>
    typeof value === 'number' ? `${(value * 100).toFixed(value >= 0.99 && value < 1 ? 2 : 1)}%` : '–',
  );
  hbs.registerHelper('barWidth', (value: unknown) =>
    typeof value === 'number' ? Math.round(Math.max(0, Math.min(1, value)) * 100) : 0,
  );
  const template = hbs.compile(TEMPLATE, { strict: false });
  return (report, now) =>
    template({
      service: report.service,
      source: report.source,
      generatedAt: now.toISOString(),
      slos: report.slos.map((s) => ({ ...s, hasSli: s.sli !== null })),
    });
}
