import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildInvoice } from '../../src/billing/invoice.js';
import { renderInvoiceHtml, renderInvoiceMarkdown } from '../../src/billing/invoice-render.js';
import { parsePeriod } from '../../src/billing/period.js';
import { PLANS } from '../../src/billing/plans.js';

const period = parsePeriod('2026-12', 'Europe/Paris');
const hostile = buildInvoice({
  tenantId: 'acme',
  tenantName: '<script>alert(1)</script> | *Acme*',
  plan: PLANS.pro,
  period,
  usage: { orders: 10_003, apiCalls: 1_001_001 },
});

describe('invoices', () => {
  it.each([
    ['free, any usage: nothing to pay', PLANS.free, { orders: 100, apiCalls: 10_000 }, 0, 1],
    ['pro under its quotas: the base fee', PLANS.pro, { orders: 9_000, apiCalls: 5 }, 4_900, 1],
    // 3 orders at 5 cents, 2 started blocks of 1000 calls at 50 cents.
    ['pro with overage', PLANS.pro, { orders: 10_003, apiCalls: 1_001_001 }, 4_900 + 15 + 100, 3],
    ['enterprise with order overage', PLANS.enterprise, { orders: 500_010, apiCalls: 0 }, 150_000 + 20, 2],
  ])('%s', (_name, plan, usage, total, lines) => {
    const invoice = buildInvoice({ tenantId: 't', tenantName: 'T', plan, period, usage });
    expect(invoice.totalCents).toBe(total);
    expect(invoice.lines).toHaveLength(lines);
    expect(invoice.totalCents).toBe(invoice.lines.reduce((s, l) => s + l.amountCents, 0));
  });

  it('refuses usage that is not a count', () => {
    expect(() =>
      buildInvoice({
        tenantId: 't',
        tenantName: 'T',
        plan: PLANS.pro,
        period,
        usage: { orders: -1, apiCalls: 0 },
      }),
    ).toThrow('Expected `usage.orders` to be an integer >= 0, got `-1` (number)');
  });

  it('renders Markdown with every line, the total and tenant text escaped', () => {
    const md = renderInvoiceMarkdown(hostile);
    expect(md).toContain('# Invoice acme-2026-12');
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*Acme\\*');
    expect(md).toContain('| Orders beyond the 10,000 included (10,003 used) | 3 | order | $0.05 | $0.15 |');
    expect(md).toContain('| **Total** | | | | **$50.15** |');
    expect(md).toContain('2026-12-01 to 2026-12-31 (Europe/Paris)');
  });

  it('renders HTML with the values escaped', () => {
    const html = renderInvoiceHtml(hostile);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('<td class="num" id="total">$50.15</td>');
  });
});

const CHROMIUM = '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'retailflow-invoice-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!existsSync(CHROMIUM))('the HTML invoice in headless Chromium', () => {
  it('renders to a non-trivial screenshot', () => {
    const page = join(dir, 'invoice.html');
    const png = join(dir, 'invoice.png');
    writeFileSync(page, renderInvoiceHtml(hostile));
    execFileSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--window-size=900,700',
        `--screenshot=${png}`,
        `file://${page}`,
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // Width and height from the IHDR chunk, then size: a blank page compresses to a few hundred bytes.
    expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([900, 700]);
    expect(statSync(png).size).toBeGreaterThan(10_000);
  }, 90_000);
});
