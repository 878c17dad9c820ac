import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/command.js';
import { main } from '../src/cli/main.js';
import { freePort, startBackfilledPrometheus, type BackfilledPrometheus } from './backfilled-prometheus.js';
import { tool } from './rules-tools.js';

// `ballast-slo status --prometheus` and `ballast-slo gate` against a real Prometheus whose TSDB was backfilled
// with `promtool tsdb create-blocks-from openmetrics`: the history is exact and known, and nothing waits for a scrape.

const hasPrometheus = tool('prometheus');

const SPEC = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: healthy
spec:
  service: shop
  indicator:
    metadata:
      name: healthy-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{route="/ok",code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{route="/ok"}
  timeWindow:
    - duration: 1h
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: spent
spec:
  service: shop
  indicator:
    metadata:
      name: spent-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{route="/bad",code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{route="/bad"}
  timeWindow:
    - duration: 1h
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: silent
spec:
  service: shop
  indicator:
    metadata:
      name: silent-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{route="/none",code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{route="/none"}
  timeWindow:
    - duration: 1h
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
`;

/** 40 minutes of history ending at `end` (epoch s), one sample every 15 s: /ok fails 0.1%, /bad 5%. */
function openMetrics(end: number): string {
  const lines = ['# TYPE shop_requests counter'];
  const steps = 160;
  const series: [string, number][] = [
    ['route="/ok",code="200"', 999],
    ['route="/ok",code="500"', 1],
    ['route="/bad",code="200"', 950],
    ['route="/bad",code="500"', 50],
  ];
  for (const [labels, perStep] of series) {
    for (let i = 0; i <= steps; i++) {
      lines.push(`shop_requests_total{job="shop",${labels}} ${i * perStep} ${end - (steps - i) * 15}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

describe.skipIf(hasPrometheus.skip)('ballast-slo gate and status --prometheus, on a real Prometheus', () => {
  let dir: string;
  let prometheus: BackfilledPrometheus | undefined;
  let url: string;
  // The end of the history: a whole minute, 10 minutes ago (inside the default retention, outside the head).
  const end = Math.floor(Date.now() / 60_000) * 60 - 600;
  const at = String(end * 1000);

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: dir };
    const code = await main(args, io);
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-gate-'));
    writeFileSync(join(dir, 'slos.yaml'), SPEC);
    prometheus = await startBackfilledPrometheus(dir, openMetrics(end));
    url = prometheus.url;
  }, 30_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gate: ship (exit 0) while the budget holds', async () => {
    const r = await cli(['gate', '--prometheus', url, '--at', at, '--slo', 'healthy', 'slos.yaml']);
    expect(r.stdout).toMatch(/^gate: ship: healthy: ship: \d+(\.\d)?% of the error budget left/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  it('gate: freeze (exit 1) with the reason once the budget is spent', async () => {
    const r = await cli(['gate', '--prometheus', url, '--at', at, '--slo', 'spent', 'slos.yaml']);
    expect(r.stdout).toMatch(/^gate: freeze: spent: freeze: error budget exhausted \(-\d+(\.\d)?% left/);
    expect(r.code, r.stdout + r.stderr).toBe(1);
  });

  it('gate: unknown (exit 2) for an SLO with no data', async () => {
    const r = await cli(['gate', '--prometheus', url, '--at', at, '--slo', 'silent', 'slos.yaml']);
    expect(r.stdout).toMatch(/^gate: unknown: silent: unknown: no events in the period/);
    expect(r.code).toBe(2);
  });

  it('gate over every SLO: freeze wins over unknown and ship, one line per SLO', async () => {
    const r = await cli(['gate', '--prometheus', url, '--at', at, 'slos.yaml']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^gate: freeze: spent: /);
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual(['healthy', 'spent', 'silent']);
  });

  it('gate --min-budget freezes an SLO with budget left below the line', async () => {
    const r = await cli([
      'gate',
      ...['--prometheus', url, '--at', at, '--slo', 'healthy', '--min-budget', '0.95'],
      'slos.yaml',
    ]);
    expect(r.stdout).toMatch(/^gate: freeze: healthy: freeze: error budget exhausted/);
    expect(r.code).toBe(1);
  });

  it('gate: unknown (exit 2) when Prometheus does not answer', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await cli(['gate', '--prometheus', closed, '--timeout-ms', '2000', 'slos.yaml']);
    expect(r.stdout).toMatch(/^gate: unknown: Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer/);
    expect(r.code).toBe(2);
  });

  it('gate: unknown (exit 2) for invalid specs and for a missing --prometheus', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: openslo/v1\nkind: SLO\nmetadata: {}\n');
    const bad = await cli(['gate', '--prometheus', url, 'bad.yaml']);
    expect(bad.stderr).toMatch(/bad\.yaml:\d+:\d+/);
    expect(bad.stdout).toMatch(/^gate: unknown: the SLO specs are invalid/);
    expect(bad.code).toBe(2);
    const noUrl = await cli(['gate', 'slos.yaml']);
    expect(noUrl.stdout).toMatch(/^gate: unknown: --prometheus URL is required/);
    expect(noUrl.code).toBe(2);
  });

  it('status --prometheus prints the fleet view and exits 3 when a budget is exhausted', async () => {
    const r = await cli(['status', '--prometheus', url, '--at', at, '--json', 'slos.yaml']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toBe('error budget exhausted: spent\n');
    const statuses = JSON.parse(r.stdout) as {
      slo: string;
      sli: number | null;
      policy: string;
      events: { good: number; bad: number };
    }[];
    const by = new Map(statuses.map((s) => [s.slo, s]));
    // 40 minutes at 1000 requests per 15 s: 160,000 requests, up to Prometheus's extrapolation at the edges.
    expect(by.get('healthy')!.sli).toBeCloseTo(0.999, 4);
    expect(by.get('healthy')!.policy).toBe('ok');
    expect(by.get('spent')!.sli).toBeCloseTo(0.95, 4);
    expect(by.get('spent')!.policy).toBe('exhausted');
    expect(by.get('silent')!.sli).toBeNull();
  });

  it('status --prometheus exits 0 when no budget is exhausted, 1 when Prometheus does not answer', async () => {
    writeFileSync(join(dir, 'healthy.yaml'), SPEC.split('\n---\n')[0]!);
    const ok = await cli(['status', '--prometheus', url, '--at', at, 'healthy.yaml']);
    expect(ok.stdout).toMatch(/^SLO\s+SERVICE/);
    expect(ok.stdout).toMatch(/healthy\s+shop\s+99%/);
    expect(ok.code, ok.stderr).toBe(0);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const down = await cli(['status', '--prometheus', closed, 'healthy.yaml']);
    expect(down.stderr).toMatch(/did not answer/);
    expect(down.code).toBe(1);
  });
});
