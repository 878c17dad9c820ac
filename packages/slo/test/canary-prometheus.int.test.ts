import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command } from '../src/cli/canary.js';
import type { CliIo } from '../src/cli/command.js';
import { freePort, startBackfilledPrometheus, type BackfilledPrometheus } from './backfilled-prometheus.js';
import { tool } from './rules-tools.js';

// A real Prometheus over backfilled history: one stable fleet and four canary tracks whose behaviour is known, so
// the judge's answers can be checked exactly. Backfilled blocks make the test independent of scrape timing.
const hasPrometheus = tool('prometheus');

const STEP_S = 15;
const MINUTES = 20;
// Two hours before a block boundary, far enough in the past to be a persisted block, not the head.
const END_S = Math.floor(Date.now() / 1000 / 7200) * 7200 - 7200;
const START_S = END_S - MINUTES * 60;

/** Requests per second, error ratio and latency (seconds) of each track. */
const TRACKS = {
  stable: { rps: 100, errors: 0.001, latency: 0.02 },
  good: { rps: 5, errors: 0.001, latency: 0.02 },
  failing: { rps: 5, errors: 0.05, latency: 0.02 },
  slow: { rps: 5, errors: 0.001, latency: 0.22 },
  idle: { rps: 0.05, errors: 0, latency: 0.02 },
} as const;

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1];

function openMetrics(): string {
  const lines: string[] = ['# HELP shop_requests Requests.', '# TYPE shop_requests counter'];
  const hist: string[] = [
    '# HELP shop_request_duration_seconds Latency.',
    '# TYPE shop_request_duration_seconds histogram',
  ];
  for (const [track, t] of Object.entries(TRACKS)) {
    for (let s = START_S; s <= END_S; s += STEP_S) {
      const total = Math.round(t.rps * (s - START_S));
      const failed = Math.round(total * t.errors);
      lines.push(`shop_requests_total{code="200",track="${track}"} ${total - failed} ${s}`);
      lines.push(`shop_requests_total{code="503",track="${track}"} ${failed} ${s}`);
      for (const le of BUCKETS) {
        // Half the requests at the track's latency, a quarter below, a quarter at twice it.
        const share =
          (t.latency / 2 <= le ? 0.25 : 0) + (t.latency <= le ? 0.5 : 0) + (t.latency * 2 <= le ? 0.25 : 0);
        hist.push(
          `shop_request_duration_seconds_bucket{le="${le}",track="${track}"} ${Math.round(total * share)} ${s}`,
        );
      }
      hist.push(`shop_request_duration_seconds_bucket{le="+Inf",track="${track}"} ${total} ${s}`);
      hist.push(`shop_request_duration_seconds_count{track="${track}"} ${total} ${s}`);
      hist.push(`shop_request_duration_seconds_sum{track="${track}"} ${total * t.latency} ${s}`);
    }
  }
  return [...lines, ...hist, '# EOF', ''].join('\n');
}

const SPEC = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: shop-availability
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
  timeWindow:
    - duration: 28d
      isRolling: true
  indicator:
    metadata:
      name: shop-availability
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total{code=~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: shop_requests_total
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: shop-answers
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - target: 0.999
  timeWindow:
    - duration: 28d
      isRolling: true
  indicator:
    metadata:
      name: shop-answers
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(shop_requests_total{code!~"5..|x}"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(shop_requests_total[{{.window}}]))
`;

describe.skipIf(hasPrometheus.skip)('ballast-slo canary against a real Prometheus', () => {
  let dir: string;
  let prometheus: BackfilledPrometheus | undefined;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-canary-'));
    writeFileSync(join(dir, 'slo.yaml'), SPEC);
    prometheus = await startBackfilledPrometheus(dir, openMetrics());
    url = prometheus.url;
  }, 40_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function judge(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: CliIo = {
      stdout: (t) => (out += t),
      stderr: (t) => (err += t),
      cwd: dir,
      now: () => END_S * 1000,
    };
    const code = await command.run(
      ['--prometheus', url, '--baseline', 'track="stable"', '--window', '10m', ...args, 'slo.yaml'],
      io,
    );
    return { code, out, err };
  }

  it('rolls back a build that fails 5% of requests (exit 1) and names the SLO', async () => {
    const { code, out } = await judge('--canary', 'track="failing"');
    expect(out).toMatch(/^verdict: fail/);
    expect(out).toMatch(/fail\s+slo\s+shop-availability: canary worse than baseline/);
    // The same SLO written as expressions: the matchers reach every range selector inside them.
    expect(out).toMatch(/fail\s+slo\s+shop-answers: canary worse than baseline/);
    expect(code).toBe(1);
  });

  it('promotes a healthy build (exit 0)', async () => {
    const { code, out } = await judge(
      '--canary',
      'track="good"',
      '--latency',
      'shop_request_duration_seconds',
    );
    expect(out).toMatch(/^verdict: pass/);
    expect(code).toBe(0);
  });

  it('rolls back a build that adds 200 ms when latency is compared', async () => {
    const withLatency = await judge('--canary', 'track="slow"', '--latency', 'shop_request_duration_seconds');
    expect(withLatency.out).toMatch(/shop_request_duration_seconds p50: canary higher than baseline/);
    expect(withLatency.code).toBe(1);
  });

  it('holds a canary with too little traffic (exit 2)', async () => {
    const { code, out } = await judge('--canary', 'track="idle"');
    expect(out).toMatch(/^verdict: inconclusive/);
    expect(out).toMatch(/too few/);
    expect(code).toBe(2);
  });

  it('holds when Prometheus cannot be reached (exit 2), saying why', async () => {
    let err = '';
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (t) => (err += t),
      cwd: dir,
      now: () => END_S * 1000,
    };
    const port = await freePort();
    const code = await command.run(
      ['--prometheus', `http://127.0.0.1:${port}`, '--baseline', 'a="b"', '--canary', 'a="c"', 'slo.yaml'],
      io,
    );
    expect(code).toBe(2);
    expect(err).toMatch(/cannot judge the canary/);
  });
});
