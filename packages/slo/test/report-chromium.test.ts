import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shopReport } from '../examples/report.js';
import { engineReport } from '../src/report/from-engine.js';
import { renderHtmlReport } from '../src/report/html.js';
import { hostileSlo, shopEvents, START } from './report-events.js';
import { tool } from './rules-tools.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = tool(CHROMIUM);
const spec = join(import.meta.dirname, '..', 'examples', 'shop', 'slos.yaml');

describe.skipIf(hasChromium.skip)('the HTML report in headless Chromium', () => {
  let dir: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-report-'));
    // A fresh profile directory per run (Playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(html: string, name: string) {
    const file = join(dir, `${name}.html`);
    writeFileSync(file, html);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, problems };
  }

  it('renders the shop report without console errors and saves a screenshot', async () => {
    const { html } = await shopReport(spec, shopEvents());
    const { page, problems } = await open(html, 'shop');
    expect(await page.locator('table tbody tr').count()).toBe(3);
    expect(await page.locator('svg.chart').count()).toBe(6);
    expect(await page.locator('h1').textContent()).toBe('Shop: service level objectives');
    const screenshot = join(tmpdir(), 'ballast-slo-report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`[ballast] report screenshot: ${screenshot}`);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('shows a hostile display name as text and runs nothing from it', async () => {
    const report = engineReport([hostileSlo()], [{ at: START, slo: 'hostile', good: 90, bad: 10 }], {
      title: '<script>alert(4)</script>',
    });
    const { page, problems } = await open(renderHtmlReport(report), 'hostile');
    expect(await page.locator('h1').textContent()).toBe('<script>alert(4)</script>');
    expect(await page.locator('table tbody tr td a').textContent()).toBe(
      '<script>alert(1)</script> | *bold* [x](javascript:alert(2))',
    );
    expect(await page.locator('script, img').count()).toBe(0);
    await page.close();
    expect(problems).toEqual([]);
  });
});
