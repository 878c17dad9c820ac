import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { QUOTA_NAMES } from './plans.js';
import type { Invoice } from './invoice.js';

/** `$1,234.50`: cents of an ISO 4217 currency. */
export function formatMoney(cents: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
}

/** Escapes text for inline Markdown (table cells, headings): HTML becomes entities, markup characters are escaped. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~#]/g, (c) => `\\${c}`)
    .replace(/\r?\n/g, ' ');
}

function view(invoice: Invoice) {
  const money = (cents: number) => formatMoney(cents, invoice.currency);
  // Calendar days in the tenant's time zone, where the period is cut.
  const day = (ms: number) => DateTime.fromMillis(ms, { zone: invoice.period.timeZone }).toISODate() ?? '';
  return {
    number: invoice.number,
    tenantName: invoice.tenantName,
    tenantId: invoice.tenantId,
    plan: invoice.plan.name,
    period: invoice.period.id,
    timeZone: invoice.period.timeZone,
    from: day(invoice.period.start),
    to: day(invoice.period.end - 1),
    lines: invoice.lines.map((line) => ({
      description: line.description,
      quantity: line.quantity.toLocaleString('en-US'),
      unit: line.unit,
      unitPrice: money(line.unitPriceCents),
      amount: money(line.amountCents),
    })),
    usage: QUOTA_NAMES.map((name) => ({
      name: name === 'orders' ? 'Orders' : 'API calls',
      used: invoice.usage[name].toLocaleString('en-US'),
      included: invoice.plan.quotas[name].included.toLocaleString('en-US'),
      policy: invoice.plan.quotas[name].overage.kind === 'block' ? 'stops at the quota' : 'overage billed',
    })),
    total: money(invoice.totalCents),
  };
}

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Invoice {{number}}</title>
<style>
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
main { max-width: 820px; margin: 0 auto; padding: 32px 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #59636e; margin: 26px 0 6px; }
.meta { color: #59636e; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; color: #59636e; border-bottom: 2px solid #d1d9e0; padding: 8px 10px; }
td { border-bottom: 1px solid #d1d9e0; padding: 9px 10px; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 700; font-size: 16px; border-bottom: none; }
</style>
</head>
<body>
<main>
<h1>Invoice {{number}}</h1>
<p class="meta">{{tenantName}} ({{tenantId}}) · {{plan}} plan · {{period}}: {{from}} to {{to}} ({{timeZone}})</p>
<h2>Charges</h2>
<table>
<thead><tr><th>Description</th><th class="num">Quantity</th><th>Unit</th><th class="num">Unit price</th><th class="num">Amount</th></tr></thead>
<tbody>
{{#each lines}}<tr><td>{{description}}</td><td class="num">{{quantity}}</td><td>{{unit}}</td><td class="num">{{unitPrice}}</td><td class="num">{{amount}}</td></tr>
{{/each}}</tbody>
<tfoot><tr><td colspan="4">Total</td><td class="num" id="total">{{total}}</td></tr></tfoot>
</table>
<h2>Usage</h2>
<table>
<thead><tr><th>Quota</th><th class="num">Used</th><th class="num">Included</th><th>Past the quota</th></tr></thead>
<tbody>
{{#each usage}}<tr><td>{{name}}</td><td class="num">{{used}}</td><td class="num">{{included}}</td><td>{{policy}}</td></tr>
{{/each}}</tbody>
</table>
</main>
</body>
</html>
`;

const MARKDOWN = `# Invoice {{md number}}

{{md tenantName}} ({{md tenantId}}) · {{plan}} plan · {{period}}: {{from}} to {{to}} ({{md timeZone}})

| Description | Quantity | Unit | Unit price | Amount |
| --- | ---: | --- | ---: | ---: |
{{#each lines}}| {{md description}} | {{quantity}} | {{md unit}} | {{unitPrice}} | {{amount}} |
{{/each}}| **Total** | | | | **{{total}}** |

| Quota | Used | Included | Past the quota |
| --- | ---: | ---: | --- |
{{#each usage}}| {{name}} | {{used}} | {{included}} | {{policy}} |
{{/each}}`;

/**
 * A manager's report as two strict handlebars templates: `html` escapes every value, `markdown` escapes what goes
 * through its `md` helper (tenant-supplied text) and nothing else. The invoice and the cost report are made this way.
 *
 * @example
 * ```ts
 * const { html, markdown } = reportTemplates('<p>{{name}}</p>', '# {{md name}}');
 * ```
 */
export function reportTemplates<V>(
  htmlSource: string,
  markdownSource: string,
): { readonly html: (view: V) => string; readonly markdown: (view: V) => string } {
  const handlebars = Handlebars.create();
  handlebars.registerHelper('md', (text: unknown) => escapeMarkdown(String(text)));
  return {
    html: handlebars.compile<V>(htmlSource, { strict: true }),
    markdown: handlebars.compile<V>(markdownSource, { strict: true, noEscape: true }),
  };
}

const { html, markdown } = reportTemplates<ReturnType<typeof view>>(HTML, MARKDOWN);

/**
 * The invoice as a standalone HTML page (no scripts, no external requests; every value escaped by handlebars).
 *
 * @example
 * ```ts
 * writeFileSync('invoice.html', renderInvoiceHtml(invoice));
 * ```
 */
export function renderInvoiceHtml(invoice: Invoice): string {
  return html(view(invoice));
}

/**
 * The invoice as GitHub-flavoured Markdown (tenant-supplied text escaped).
 *
 * @example
 * ```ts
 * console.log(renderInvoiceMarkdown(invoice));
 * ```
 */
export function renderInvoiceMarkdown(invoice: Invoice): string {
  return markdown(view(invoice));
}
