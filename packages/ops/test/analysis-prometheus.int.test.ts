import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient, parseSlos } from '@ballast/slo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisTemplates } from '../src/kubernetes.js';
import { resolveService } from '../src/service.js';
import {
  startBackfilledPrometheus,
  type BackfilledPrometheus,
} from '../../slo/test/backfilled-prometheus.js';
import { tool } from '../../slo/test/rules-tools.js';

// The generated Argo Rollouts analysis, run as Argo would run it: its queries, with the pod-template hashes
// substituted, against a real Prometheus holding a stable version and canaries whose behaviour is known.
const hasPrometheus = tool('prometheus');

const STEP_S = 15;
const MINUTES = 20;
const END_S = Math.floor(Date.now() / 1000 / 7200) * 7200 - 7200;
const START_S = END_S - MINUTES * 60;

/** Requests per second and error ratio of each pod-template hash. */
const HASHES = {
  stable: { rps: 100, errors: 0.001 },
  good: { rps: 5, errors: 0.001 },
  failing: { rps: 5, errors: 0.05 },
  // Worse than stable, but by less than a budget's worth of burn: not a rollback.
  marginal: { rps: 5, errors: 0.0015 },
  idle: { rps: 0.05, errors: 0 },
} as const;

function openMetrics(): string {
  const lines = ['# HELP shop_requests Requests.', '# TYPE shop_requests counter'];
  for (const [hash, t] of Object.entries(HASHES)) {
    for (let s = START_S; s <= END_S; s += STEP_S) {
      const total = Math.round(t.rps * (s - START_S));
      const failed = Math.round(total * t.errors);
      lines.push(
        `shop_requests_total{code="200",rollouts_pod_template_hash="${hash}"} ${total - failed} ${s}`,
      );
      lines.push(`shop_requests_total{code="503",rollouts_pod_template_hash="${hash}"} ${failed} ${s}`);
    }
  }
  return [...lines, '# EOF', ''].join('\n');
}

const SPEC = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: shop-availability
spec:
  service: shop
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
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
`;

describe.skipIf(hasPrometheus.skip)('the generated AnalysisTemplate on a real Prometheus', () => {
  let dir: string;
  let prometheus: BackfilledPrometheus | undefined;
  let client: PrometheusClient;
  const [template] = analysisTemplates(parseSlos(SPEC, 'slo.yaml'), resolveService({ name: 'shop' }));
  const metrics = (
    template!.spec as { metrics: { name: string; provider: { prometheus: { query: string } } }[] }
  ).metrics;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-analysis-'));
    prometheus = await startBackfilledPrometheus(dir, openMetrics());
    client = new PrometheusClient({ url: prometheus.url });
  }, 40_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** What Argo would read for one metric with the canary's hash: `[]` is no data (inconclusive). */
  async function result(metric: string, canary: string): Promise<number[]> {
    const m = metrics.find((x) => x.name === `shop-availability-${metric}`)!;
    const query = m.provider.prometheus.query
      .replaceAll('{{args.canary-hash}}', canary)
      .replaceAll('{{args.stable-hash}}', 'stable');
    return (await client.query(query, END_S * 1000)).map((s) => s.value);
  }

  it('fails a canary that fails 5% of requests on both metrics', async () => {
    const [burn] = await result('canary-burn-rate', 'failing');
    expect(burn).toBeGreaterThan(4.5);
    const [z] = await result('canary-vs-stable', 'failing');
    expect(z).toBeGreaterThanOrEqual(2.326);
  });

  it('passes a canary that behaves like the stable version', async () => {
    const [burn] = await result('canary-burn-rate', 'good');
    expect(burn).toBeLessThan(1);
    const [z] = await result('canary-vs-stable', 'good');
    expect(z).toBeLessThan(2.326);
  });

  it('passes a canary worse by less than a budget of burn (no rollback on noise)', async () => {
    const [z] = await result('canary-vs-stable', 'marginal');
    expect(z).toBeLessThan(2.326);
  });

  it('returns no data for a canary with too few events: inconclusive, not a pass', async () => {
    expect(await result('canary-vs-stable', 'idle')).toEqual([]);
  });
});
