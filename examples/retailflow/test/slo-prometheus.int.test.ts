import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startBackfilledPrometheus,
  type BackfilledPrometheus,
} from '../../../packages/slo/test/backfilled-prometheus.js';
import { tool } from '../../../packages/slo/test/rules-tools.js';
import type { SloReport } from '../src/ops/slo-view.js';
import type { RetailFlow } from '../src/service.js';
import { ACME, OPS, call, startTestService } from './helpers.js';

// Two RetailFlow replicas behind one real Prometheus, whose TSDB was backfilled with the fleet's request counts
// (`promtool tsdb create-blocks-from openmetrics`): both read the same budget and take the same flag decisions,
// and both fall back to their own engine, saying so, once Prometheus stops answering.

const hasPrometheus = tool('prometheus');
const REFRESH_MS = 15_000;

/**
 * 40 minutes of the fleet's checkouts and catalog reads ending at `end` (epoch s), one sample every 15 s from each
 * of two instances: checkouts fail 5% of the time (10x the 0.5% the SLO allows), catalog reads are fast.
 */
function openMetrics(end: number): string {
  const lines = ['# TYPE http_server_request_duration_seconds histogram'];
  const steps = 160;
  const checkout = 'http_route="/api/v1/orders",http_request_method="POST"';
  const catalog = 'http_route="/api/v1/products",http_request_method="GET",http_response_status_code="200"';
  for (const instance of ['replica-a:3002', 'replica-b:3002']) {
    const base = `job="retailflow",instance="${instance}"`;
    const series: [string, number][] = [
      [`_count{${base},${checkout},http_response_status_code="201"}`, 19],
      [`_count{${base},${checkout},http_response_status_code="503"}`, 1],
      [`_bucket{${base},${catalog},le="0.25"}`, 50],
      [`_bucket{${base},${catalog},le="+Inf"}`, 50],
      [`_count{${base},${catalog}}`, 50],
    ];
    for (const [suffix, perStep] of series) {
      for (let i = 0; i <= steps; i++) {
        lines.push(`http_server_request_duration_seconds${suffix} ${i * perStep} ${end - (steps - i) * 15}`);
      }
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

async function report(service: RetailFlow): Promise<SloReport> {
  const answer = await call<SloReport>(service.opsUrl, 'GET', '/api/v1/slo', { key: OPS });
  expect(answer.status).toBe(200);
  return answer.body;
}

async function recommendations(service: RetailFlow): Promise<{ enabled: boolean; reason: string }> {
  const answer = await call<{ flags: { name: string; enabled: boolean; reason: string }[] }>(
    service.url,
    'GET',
    '/api/v1/flags',
    { key: ACME },
  );
  return answer.body.flags.find((f) => f.name === 'recommendations')!;
}

describe.skipIf(hasPrometheus.skip)('RetailFlow replicas behind one Prometheus (PROMETHEUS_URL)', () => {
  let dir: string;
  let prometheus: BackfilledPrometheus | undefined;
  const replicas: { service: RetailFlow; clock: ManualClock }[] = [];
  // The end of the history: a whole minute, 10 minutes ago (inside the retention, outside the head block).
  const end = Math.floor(Date.now() / 60_000) * 60 - 600;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'retailflow-prom-'));
    prometheus = await startBackfilledPrometheus(dir, openMetrics(end));
    for (let i = 0; i < 2; i++) {
      const clock = new ManualClock(end * 1000);
      const { service } = await startTestService(
        { prometheusUrl: prometheus.url, prometheusRefreshMs: REFRESH_MS },
        { clock },
      );
      replicas.push({ service, clock });
    }
  }, 60_000);

  afterAll(async () => {
    for (const { service } of replicas) await service.shutdown();
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("both replicas report the fleet's budget and turn the same flag off, whatever their own engine says", async () => {
    const [a, b] = await Promise.all(replicas.map(({ service }) => report(service)));
    expect(a!.source).toMatchObject({ kind: 'prometheus', readAt: new Date(end * 1000).toISOString() });
    expect(a!.source?.reason).toBe(`the fleet's view from ${prometheus!.url}`);
    expect(b!.slos).toEqual(a!.slos);

    const checkout = a!.slos.find((s) => s.name === 'checkout-availability')!;
    // 5% of checkouts failed against 0.5% allowed: ten times the budget is spent (up to Prometheus's extrapolation).
    expect(checkout.sli).toBeCloseTo(0.95, 2);
    expect(checkout.errorBudgetRemaining).toBeLessThan(-8);
    expect(checkout.policy).toBe('exhausted');
    expect(a!.slos.find((s) => s.name === 'catalog-latency')).toMatchObject({ sli: 1, policy: 'ok' });

    for (const { service } of replicas) {
      // Neither replica served a checkout itself: its own engine sees a full budget.
      expect(service.slos.engine.policy('checkout-availability')).toBe('ok');
      expect(service.slos.policy('checkout-availability')).toBe('exhausted');
      expect(await recommendations(service)).toEqual({
        name: 'recommendations',
        enabled: false,
        reason: 'error budget of checkout-availability exhausted',
      });
    }
  });

  it("falls back to each replica's own engine while Prometheus does not answer, and says why", async () => {
    await prometheus!.stop();
    for (const { service, clock } of replicas) {
      await service.slos.refresh();
      // One failed read: the last view is still fresh, so it still decides, and the page says the read failed.
      expect((await report(service)).source?.reason).toMatch(/; the last read failed \(/);
      await clock.advanceAsync(3 * REFRESH_MS + 1);
      await service.slos.refresh();
      const page = await report(service);
      expect(page.source?.kind).toBe('local-fallback');
      expect(page.source?.reason).toMatch(
        /^Prometheus at http:\/\/127\.0\.0\.1:\d+ is not answering \(.+\): this instance's engine decides meanwhile$/,
      );
      expect(page.slos.find((s) => s.name === 'checkout-availability')?.policy).toBe('ok');
      expect(await recommendations(service)).toMatchObject({ enabled: true });
    }
  });
});
