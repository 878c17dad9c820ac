import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/command.js';
import { writePrometheusRules } from '../examples/rules.js';
import { main } from '../src/cli/main.js';
import { generateRules } from '../src/rules/generate.js';
import { loadSlos } from '../src/openslo/load.js';

const pkg = join(import.meta.dirname, '..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: pkg };
  return { code: await main(args, io), stdout, stderr };
}

describe('ballast-slo rules', () => {
  it('prints the rules of the specs on stdout', async () => {
    const r = await cli([
      'rules',
      'examples/shop/slos.yaml',
      '--runbook-base-url',
      'https://runbooks.example.com',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const slos = await loadSlos([join(pkg, 'examples/shop/slos.yaml')]);
    expect(r.stdout).toBe(generateRules(slos, { runbookBaseUrl: 'https://runbooks.example.com' }).yaml);
    expect(r.stdout).toContain('alert: ShopCheckoutAvailabilityBurnRatePage');
  });

  it('evaluates the metadata groups at --meta-interval and the ticket groups at --ticket-interval', async () => {
    const r = await cli([
      'rules',
      'examples/shop/slos.yaml',
      '--interval',
      '30s',
      '--meta-interval',
      '5m',
      '--ticket-interval',
      '2m',
    ]);
    expect(r.stderr).toBe('');
    const slos = await loadSlos([join(pkg, 'examples/shop/slos.yaml')]);
    expect(r.stdout).toBe(
      generateRules(slos, { interval: '30s', metaInterval: '5m', ticketInterval: '2m' }).yaml,
    );
    expect(r.stdout).toContain('- name: slo-shop-checkout-availability-meta\n    interval: 5m');
    expect(r.stdout).toContain('- name: slo-shop-checkout-availability-tickets\n    interval: 2m');
  });

  it('writes the rules to -o and the promtool tests to --tests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-rules-cli-'));
    const r = await cli([
      'rules',
      'examples/shop',
      '-o',
      join(dir, 'out/rules.yml'),
      '--tests',
      join(dir, 'tests'),
      '--interval',
      '30s',
    ]);
    expect(r).toMatchObject({
      code: 0,
      stdout: '',
      stderr:
        'search-availability: test not generated: short history: the blip scenarios are written for event budgeting\n',
    });
    expect(readFileSync(join(dir, 'out/rules.yml'), 'utf8')).toContain('interval: 30s');
    expect(readdirSync(join(dir, 'tests')).sort()).toEqual([
      'checkout-availability.raw-form.rules.yml',
      'checkout-availability.rules.yml',
      'checkout-availability.test.yml',
      'checkout-latency.raw-form.rules.yml',
      'checkout-latency.rules.yml',
      'checkout-latency.test.yml',
      'search-availability.raw-form.rules.yml',
      'search-availability.rules.yml',
      'search-availability.test.yml',
    ]);
  });

  it('writes every window from the counters with --windows raw, and refuses another value', async () => {
    const raw = await cli(['rules', 'examples/shop', '--windows', 'raw']);
    expect(raw.code).toBe(0);
    expect(raw.stdout).not.toContain(
      'sum_over_time(slo:sli_bad:rate5m{slo="checkout-availability",service="shop"}[3d])',
    );
    expect(raw.stdout).toContain('code=~"5.."}[3d]');
    const bad = await cli(['rules', 'examples/shop', '--windows', 'fast']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Expected `--windows` to be `recorded` or `raw`, got `fast`');
  });

  it('exits 1 with located errors on an invalid spec, 2 on usage errors', async () => {
    const invalid = await cli(['rules', 'test/fixtures/invalid/target-too-high.yaml']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/target-too-high\.yaml:\d+:\d+: /);
    expect(invalid.stdout).toBe('');
    for (const args of [['rules'], ['rules', '--nope', 'examples/shop']]) {
      const usage = await cli(args);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('Usage: ballast-slo rules');
    }
    const help = await cli(['rules', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--runbook-base-url URL');
  });
});

describe('examples/rules.ts', () => {
  it('writes the rules and the promtool tests and names the runbooks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-rules-example-'));
    const alerts = await writePrometheusRules([join(pkg, 'examples/shop/slos.yaml')], dir);
    expect(alerts).toEqual([
      'ShopCheckoutAvailabilityBurnRatePage',
      'ShopCheckoutAvailabilityBurnRateTicket',
      'ShopCheckoutLatencyBurnRatePage',
      'ShopCheckoutLatencyBurnRateTicket',
      'ShopSearchAvailabilityBurnRatePage',
      'ShopSearchAvailabilityBurnRateTicket',
    ]);
    expect(readFileSync(join(dir, 'slo-rules.yml'), 'utf8')).toContain(
      'runbook_url: https://github.com/acme/shop/blob/main/runbooks/ShopCheckoutLatencyBurnRateTicket.md',
    );
    expect(readdirSync(join(dir, 'tests'))).toHaveLength(9);
  });
});
