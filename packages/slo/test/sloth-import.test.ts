import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { generateRules } from '../src/rules/generate.js';
import { isSpecValidationError } from '../src/openslo/errors.js';
import { parseSlos } from '../src/openslo/parse.js';
import { importSloth } from '../src/openslo/sloth.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'sloth');
const read = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd: fixtures,
  });
  return { code, stdout, stderr };
}

describe('importSloth', () => {
  it('turns a Sloth service with two SLOs into OpenSLO v1 that Ballast parses', () => {
    const slos = parseSlos(importSloth(read('storefront.yaml'), 'storefront.yaml'), 'imported.yaml');
    expect(slos.map((s) => [s.service, s.name, s.objective])).toEqual([
      ['storefront', 'requests-availability', 0.999],
      ['storefront', 'requests-latency', 0.99],
    ]);
    const [availability, latency] = slos;
    expect(availability!.timeWindow).toMatchObject({ kind: 'rolling', duration: '30d' });
    expect(availability!.labels).toEqual({ owner: 'web-team', tier: '1' });
    expect(latency!.labels).toEqual({ owner: 'web-team', tier: '1', category: 'latency' });
    expect(latency!.description).toBe('Sloth disabled its ticket_alert; Ballast writes both.');
    // error_query is the bad events, total_query all events: the rules count them as Sloth would.
    const rules = generateRules(slos).yaml;
    expect(rules).toContain('sum(rate(http_requests_total{job="storefront",code=~"(5..|429)"}[5m]))');
    expect(rules).toContain('alert: StorefrontRequestsAvailabilityBurnRatePage');
  });

  it('takes the period Sloth does not write', () => {
    const [slo] = parseSlos(
      importSloth(read('storefront.yaml'), 'storefront.yaml', { period: '28d' }),
      'x.yaml',
    );
    expect(slo!.timeWindow).toMatchObject({ kind: 'rolling', duration: '28d' });
  });

  it('refuses what Ballast cannot count, each error located', () => {
    let caught: unknown;
    try {
      importSloth(read('unsupported.yaml'), 'unsupported.yaml');
    } catch (error) {
      caught = error;
    }
    expect(isSpecValidationError(caught)).toBe(true);
    const messages = (caught as Error).message.split('\n').slice(1);
    expect(messages).toEqual([
      'unsupported.yaml:7:7: slos[0].sli.raw: a raw error ratio cannot be imported: Ballast counts events (write `sli.events` with `error_query` and `total_query`)',
      'unsupported.yaml:10:16: slos[1].objective: expected a percentage between 0 and 100 (exclusive) such as `99.9`, got `120` (number)',
      'unsupported.yaml:12:7: slos[1].sli.plugin: Sloth SLI plugins cannot be imported: write `sli.events` with `error_query` and `total_query`',
    ]);
  });

  it('says which version it reads', () => {
    expect(() => importSloth('version: sloth.slok.dev/v1\nservice: a\nslos: []\n', 'k8s.yaml')).toThrow(
      /k8s\.yaml:1:10: version: expected `prometheus\/v1` \(Sloth's Prometheus spec format\), got `"sloth\.slok\.dev\/v1"`/,
    );
  });
});

describe('ballast-slo import', () => {
  it('prints OpenSLO, or writes it with -o', async () => {
    const printed = await cli(['import', 'storefront.yaml']);
    expect(printed).toMatchObject({ code: 0, stderr: '' });
    expect(printed.stdout).toContain('kind: SLO');
    const out = join(mkdtempSync(join(tmpdir(), 'ballast-import-')), 'slos.yaml');
    expect((await cli(['import', 'storefront.yaml', '-o', out, '--period', '28d'])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('duration: 28d');
  });

  it('exits 1 with located errors, 2 without a file', async () => {
    const bad = await cli(['import', 'unsupported.yaml']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^unsupported\.yaml:7:7: slos\[0\]\.sli\.raw: /);
    expect((await cli(['import'])).code).toBe(2);
  });
});
