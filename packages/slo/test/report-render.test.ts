import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shopReport } from '../examples/report.js';
import { defineSlo } from '../src/define.js';
import { engineReport } from '../src/report/from-engine.js';
import { mergeAlerts } from '../src/report/alerts.js';
import { rowCells } from '../src/report/format.js';
import { renderHtmlReport } from '../src/report/html.js';
import { escapeMarkdown, escapeMarkdownBlock, renderMarkdownReport } from '../src/report/markdown.js';
import { hostileSlo, shopEvents, START } from './report-events.js';

const spec = join(import.meta.dirname, '..', 'examples', 'shop', 'slos.yaml');

describe('engineReport', () => {
  it('replays events: statuses at the last event, history across the period, alerts of the period', async () => {
    const { html, markdown } = await shopReport(spec, shopEvents());
    expect(markdown).toContain('# Shop: service level objectives');
    expect(markdown).toMatch(/\| Checkout availability \| shop \| 99\.9% \| 30d \|/);
    // The outage on day 9 pages, the slow burn on days 12-13 opens a ticket.
    // One page per incident, named as the generated Prometheus alert, with the conditions that held.
    expect(markdown).toMatch(
      /- \*\*page\*\* 2026-11-10 12:\d\d UTC to 2026-11-10 1\d:\d\d UTC: ShopCheckoutAvailabilityBurnRatePage \(page-1h, page-6h\)\n/,
    );
    expect(markdown).toMatch(
      /- \*\*ticket\*\* 2026-11-14 \d\d:\d\d UTC to .*: ShopCheckoutAvailabilityBurnRateTicket \(/,
    );
    expect(markdown).toContain(
      '| Checkout availability | shop | 99.9% | 30d | 99.931% | 68% | 0.00x (1h) | not burning | 1 page, 2 tickets |',
    );
    expect(html).toContain('<svg class="chart"');
    expect(html.match(/<section class="card /g)).toHaveLength(3);
  });

  it('keeps alerts and history inside each SLO period', () => {
    const slo = defineSlo({
      service: 'api',
      name: 'api',
      objective: 0.999,
      window: '1d',
      indicator: { bad: 'e', total: 't' },
    });
    const events = [
      { at: START, slo: 'api', good: 0, bad: 100 },
      { at: START + 3 * 86_400_000, slo: 'api', good: 100, bad: 0 },
    ];
    const report = engineReport([slo], events, { points: 10 });
    const [entry] = report.entries;
    expect(entry!.status.events).toEqual({ good: 100, bad: 0 });
    expect(entry!.alerts).toEqual([]);
    expect(entry!.history.every((p) => p.at >= entry!.status.period.start)).toBe(true);
  });
});

describe('mergeAlerts', () => {
  const slo = defineSlo({
    service: 'api',
    name: 'api',
    objective: 0.999,
    window: '30d',
    indicator: { bad: 'e', total: 't' },
  });

  it('merges overlapping firings of one severity into the one alert on-call saw', () => {
    expect(
      mergeAlerts(slo, [
        { name: 'page-1h', severity: 'page', start: 10, end: 20 },
        { name: 'page-6h', severity: 'page', start: 15, end: 40 },
        { name: 'page-1h', severity: 'page', start: 50, end: null },
        { name: 'ticket-1d', severity: 'ticket', start: 12, end: 30 },
      ]),
    ).toEqual([
      { name: 'ApiBurnRatePage', severity: 'page', conditions: ['page-1h', 'page-6h'], start: 10, end: 40 },
      { name: 'ApiBurnRateTicket', severity: 'ticket', conditions: ['ticket-1d'], start: 12, end: 30 },
      { name: 'ApiBurnRatePage', severity: 'page', conditions: ['page-1h'], start: 50, end: null },
    ]);
  });
});

describe('rowCells', () => {
  it('says when the budget outlasts a calendar period instead of calling it "not burning"', () => {
    const slo = defineSlo({
      service: 'api',
      name: 'api',
      objective: 0.99,
      window: { calendar: 'month', timeZone: 'UTC' },
      indicator: { bad: 'e', total: 't' },
    });
    const at = Date.UTC(2026, 10, 2);
    const report = engineReport([slo], [{ at, slo: 'api', good: 9950, bad: 50 }]);
    expect(report.entries[0]!.status.timeToExhaustionMs).toBeNull();
    expect(rowCells(report.entries[0]!.status, [])).toMatchObject({
      burn: '0.50x (1h)',
      exhaustion: 'past the period end',
    });
    const quiet = engineReport([slo], [{ at, slo: 'api', good: 100, bad: 0 }]);
    expect(rowCells(quiet.entries[0]!.status, []).exhaustion).toBe('not burning');
  });
});

describe('renderHtmlReport and renderMarkdownReport', () => {
  const report = engineReport([hostileSlo()], [{ at: START, slo: 'hostile', good: 90, bad: 10 }], {
    title: 'Q4 <script>alert(4)</script>',
  });

  it('escape every string from a spec in HTML', () => {
    const html = renderHtmlReport(report);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(3)&gt;');
    expect(html).toContain(
      "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"",
    );
  });

  it('escape every string from a spec in Markdown, HTML included', () => {
    const md = renderMarkdownReport(report);
    expect(md).not.toMatch(/<(script|img|b)\b/);
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*bold\\* \\[x\\](javascript:alert(2))');
    expect(
      md
        .split('\n')
        .filter((l) => l.startsWith('| '))
        .every((l) => l.split(/(?<!\\)\|/).length === 12),
    ).toBe(true);
  });

  it.each([
    ['a|b', 'a\\|b', 'a\\|b'],
    ['- item', '- item', '\\- item'],
    ['# title', '# title', '\\# title'],
    ['1. first', '1. first', '1\\. first'],
    ['0.5x (1h)', '0.5x (1h)', '0\\.5x (1h)'],
    ['line\nbreak', 'line break', 'line break'],
    ['`code` & <tag>', '\\`code\\` &amp; &lt;tag&gt;', '\\`code\\` &amp; &lt;tag&gt;'],
  ])('escapeMarkdown(%j) is %j inline and %j as a paragraph', (input, inline, block) => {
    expect(escapeMarkdown(input)).toBe(inline);
    expect(escapeMarkdownBlock(input)).toBe(block);
  });
});
