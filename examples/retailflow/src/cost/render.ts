import { reportTemplates } from '../billing/invoice-render.js';
import type { CostReport } from './report.js';

function view(report: CostReport) {
  const money = (n: number) =>
    new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: report.currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: Math.abs(n) < 1 ? 4 : 2,
    }).format(n);
  const pct = (r: number | null) => (r === null ? 'n/a' : `${(r * 100).toFixed(1)}%`);
  return {
    from: report.window.from,
    to: report.window.to,
    minutes: (report.window.seconds / 60).toFixed(1),
    currency: report.currency,
    totalCost: money(report.totals.cost),
    totalRevenue: money(report.totals.revenue),
    totalMargin: money(report.totals.margin),
    requests: report.totals.requests.toLocaleString('en-US'),
    attributed: pct(report.totals.attributedCpuRatio),
    processCpu: report.totals.processCpuSeconds.toFixed(2),
    unattributedCost: money(report.unattributed.cost),
    plans: report.plans.map((p) => ({
      plan: p.plan,
      tenants: p.tenants,
      cost: money(p.cost),
      revenue: money(p.revenue),
      margin: money(p.margin),
      marginRatio: pct(p.marginRatio),
    })),
    tenants: report.tenants.map((t) => ({
      name: t.name,
      id: t.tenantId,
      plan: t.plan ?? '-',
      requests: t.requests.toLocaleString('en-US'),
      cost: money(t.cost.total),
      cpu: money(t.cost.cpu),
      database: money(t.cost.database),
      egress: money(t.cost.egress),
      fixed: money(t.cost.fixed),
      revenue: money(t.revenue),
      margin: money(t.margin),
      marginRatio: pct(t.marginRatio),
      per1000: money(t.costPer1000Requests),
      drivers: t.drivers.map((d) => ({
        what: `${d.method} ${d.route}`,
        share: pct(d.share),
        cost: money(d.cost),
        mostly: d.mostly,
        levers: d.levers,
      })),
    })),
    routes: report.routes.slice(0, 10).map((r) => ({
      what: `${r.method} ${r.route}`,
      requests: r.requests.toLocaleString('en-US'),
      cost: money(r.cost),
      per1000: money(r.costPer1000Requests),
    })),
    method: report.method,
  };
}

const MARKDOWN = `# RetailFlow cost report

{{from}} to {{to}} ({{minutes}} minutes, this instance). Cost {{totalCost}}, revenue {{totalRevenue}}, margin **{{totalMargin}}** over {{requests}} requests.

## Margin per plan

| Plan | Tenants | Cost | Revenue | Margin | Margin % |
| --- | ---: | ---: | ---: | ---: | ---: |
{{#each plans}}| {{plan}} | {{tenants}} | {{cost}} | {{revenue}} | {{margin}} | {{marginRatio}} |
{{/each}}
## Tenants

| Tenant | Plan | Requests | CPU | Database | Egress | Fixed share | Cost | Per 1,000 requests | Revenue | Margin |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{{#each tenants}}| {{md name}} ({{md id}}) | {{plan}} | {{requests}} | {{cpu}} | {{database}} | {{egress}} | {{fixed}} | {{cost}} | {{per1000}} | {{revenue}} | {{margin}} |
{{/each}}
## Routes (variable cost, every tenant)

| Route | Requests | Cost | Per 1,000 requests |
| --- | ---: | ---: | ---: |
{{#each routes}}| \`{{what}}\` | {{requests}} | {{cost}} | {{per1000}} |
{{/each}}
## What drives the cost, and what would cut it

{{#each tenants}}{{#if drivers.length}}### {{md name}}

{{#each drivers}}- \`{{what}}\`: {{share}} of its variable cost ({{cost}}), mostly {{mostly}}.{{#each levers}}
  - {{md this}}{{/each}}
{{/each}}
{{/if}}{{/each}}## How this is measured

{{md method}} Attributed CPU is {{attributed}} of the process's {{processCpu}} s; the rest ({{unattributedCost}}) is background work not charged to a tenant.
`;

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>RetailFlow cost report</title>
<style>
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
main { max-width: 1100px; margin: 0 auto; padding: 32px 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #59636e; margin: 26px 0 6px; }
.meta { color: #59636e; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; color: #59636e; border-bottom: 2px solid #d1d9e0; padding: 8px 10px; }
td { border-bottom: 1px solid #d1d9e0; padding: 9px 10px; vertical-align: top; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
</style>
</head>
<body>
<main>
<h1>RetailFlow cost report</h1>
<p class="meta">{{from}} to {{to}} ({{minutes}} minutes, this instance) · cost {{totalCost}} · revenue {{totalRevenue}} · margin <strong id="margin">{{totalMargin}}</strong> · {{requests}} requests</p>
<h2>Margin per plan</h2>
<table>
<thead><tr><th>Plan</th><th class="num">Tenants</th><th class="num">Cost</th><th class="num">Revenue</th><th class="num">Margin</th><th class="num">Margin %</th></tr></thead>
<tbody>
{{#each plans}}<tr><td>{{plan}}</td><td class="num">{{tenants}}</td><td class="num">{{cost}}</td><td class="num">{{revenue}}</td><td class="num">{{margin}}</td><td class="num">{{marginRatio}}</td></tr>
{{/each}}</tbody>
</table>
<h2>Tenants</h2>
<table>
<thead><tr><th>Tenant</th><th>Plan</th><th class="num">Requests</th><th class="num">CPU</th><th class="num">Database</th><th class="num">Egress</th><th class="num">Fixed</th><th class="num">Cost</th><th class="num">Per 1,000</th><th class="num">Revenue</th><th class="num">Margin</th><th>Top drivers</th></tr></thead>
<tbody>
{{#each tenants}}<tr><td>{{name}} ({{id}})</td><td>{{plan}}</td><td class="num">{{requests}}</td><td class="num">{{cpu}}</td><td class="num">{{database}}</td><td class="num">{{egress}}</td><td class="num">{{fixed}}</td><td class="num">{{cost}}</td><td class="num">{{per1000}}</td><td class="num">{{revenue}}</td><td class="num">{{margin}}</td><td>{{#each drivers}}<div><code>{{what}}</code>: {{share}}, mostly {{mostly}}{{#each levers}}<br>· {{this}}{{/each}}</div>{{/each}}</td></tr>
{{/each}}</tbody>
</table>
<h2>How this is measured</h2>
<p>{{method}} Attributed CPU is {{attributed}} of the process's {{processCpu}} s; the rest ({{unattributedCost}}) is background work not charged to a tenant.</p>
</main>
</body>
</html>
`;

const { html, markdown } = reportTemplates<ReturnType<typeof view>>(HTML, MARKDOWN);

/**
 * The cost report for a manager, as GitHub-flavoured Markdown (tenant names escaped).
 *
 * @example
 * ```ts
 * writeFileSync('cost.md', renderCostMarkdown(report));
 * ```
 */
export function renderCostMarkdown(report: CostReport): string {
  return markdown(view(report));
}

/**
 * The cost report as a standalone HTML page (no scripts, no external requests; every value escaped).
 *
 * @example
 * ```ts
 * res.type('html').send(renderCostHtml(report));
 * ```
 */
export function renderCostHtml(report: CostReport): string {
  return html(view(report));
}
