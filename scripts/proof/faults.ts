import { randomUUID } from 'node:crypto';
import { percentile } from './load.js';
import { KEYS, scrape, setChaos, sleep, startService, sum, type Sample } from './service.js';

/** One second of the dependency-fault timeline. */
export interface FaultTick {
  readonly t: number;
  readonly phase: string;
  readonly ok: number;
  readonly failed: number;
  readonly breakerOpen: boolean;
  readonly budgetRemaining: number | null;
  readonly pageFiring: boolean;
}

/** What the dependency-fault scenario measured. */
export interface FaultResult {
  readonly timeline: FaultTick[];
  readonly breakerOpened: boolean;
  readonly breakerOpenedAfterSec: number | null;
  readonly retries: number;
  readonly paymentCalls: number;
  /** The most retries the budget allows over the run: 20% of calls plus 10 per second. */
  readonly retryBudgetAllowance: number;
  readonly failedCheckoutP50Ms: number;
  readonly failedCheckoutP99Ms: number;
  readonly requestTimeoutMs: number;
  readonly pageAfterSec: number | null;
  readonly workbookDetectionSec: number;
  readonly recoverySec: number | null;
  readonly goals: Record<string, { readonly value: number | null; readonly goal: number; readonly met: boolean }>;
}

/** Knobs of the scenario. */
export interface FaultOptions {
  readonly env: Record<string, string>;
  readonly baselineSec: number;
  readonly latencySec: number;
  readonly errorSec: number;
  readonly maxRecoverySec: number;
  readonly rate: number;
  readonly log: (line: string) => void;
}

const REQUEST_TIMEOUT_MS = 5000;
const OBJECTIVE = 0.995;
const PAGE_BURN = 14.4;

function breakerOpen(samples: readonly Sample[]): boolean {
  return sum(samples, 'ballast_circuit_breaker_state', { policy: 'payment-breaker', state: 'open' }) > 0;
}

/**
 * Checkouts at a steady rate while the payment provider gets 10x slower, then fails half its calls, then recovers.
 * Samples `/metrics` every second: breaker state, retries against the retry budget, the checkout SLO's page alert.
 */
export async function dependencyFaults(opts: FaultOptions): Promise<FaultResult> {
  const service = await startService(
    { ...opts.env, LOAD_SHEDDING: 'ballast', REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) },
    { fresh: true },
  );
  const timeline: FaultTick[] = [];
  const failedLatencies: number[] = [];
  const baselineLatencies: number[] = [];
  let phase = 'baseline';
  let ok = 0;
  let failed = 0;
  const inflight = new Set<Promise<void>>();
  const fire = () => {
    const started = performance.now();
    const p = fetch(`${service.url}/api/v1/orders`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.acme}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({ items: [{ productId: 'sku-filter', quantity: 1 }] }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 2),
    }).then(
      async (res) => {
        await res.arrayBuffer();
        if (phase === 'baseline' && res.status < 300) baselineLatencies.push(performance.now() - started);
        if (res.status < 300) ok++;
        else {
          failed++;
          if (phase === 'errors') failedLatencies.push(performance.now() - started);
        }
      },
      () => {
        failed++;
      },
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const driver = setInterval(fire, 1000 / opts.rate);
  const t0 = performance.now();
  let errorsStartedAt = 0;
  let breakerOpenedAt: number | null = null;
  let pageAt: number | null = null;
  let recoveredAt: number | null = null;
  let chaosOffAt = 0;
  const before = await scrape(service.opsUrl);
  const tick = async () => {
    const samples = await scrape(service.opsUrl);
    const t = (performance.now() - t0) / 1000;
    const open = breakerOpen(samples);
    const page = sum(samples, 'ballast_slo_alert_firing', { slo: 'checkout-availability', severity: 'page' }) > 0;
    const remaining = samples.find(
      (s) => s.name === 'ballast_slo_error_budget_remaining_ratio' && s.labels.slo === 'checkout-availability',
    );
    timeline.push({ t, phase, ok, failed, breakerOpen: open, budgetRemaining: remaining?.value ?? null, pageFiring: page });
    if (phase === 'errors' && open && breakerOpenedAt === null) breakerOpenedAt = t;
    if (phase !== 'baseline' && page && pageAt === null) pageAt = t;
    ok = 0;
    failed = 0;
    return { t, open, samples };
  };
  try {
    const run = async (sec: number) => {
      for (let i = 0; i < sec; i++) {
        await sleep(1000);
        await tick();
      }
    };
    opts.log('  baseline');
    await run(opts.baselineSec);
    phase = 'latency';
    // 10x slower: nine more baseline checkout medians on every payment call.
    const baselineMs = percentile(baselineLatencies, 50);
    const addedMs = Math.max(1, Math.round(9 * baselineMs));
    opts.log(`  payment provider 10x slower (checkout median ${baselineMs.toFixed(1)} ms, +${addedMs} ms per call)`);
    await setChaos(service.opsUrl, 'payments', { enabled: true, latencyMs: addedMs, errorRate: 0 });
    await run(opts.latencySec);
    phase = 'errors';
    opts.log('  payment provider failing 50% of calls');
    await setChaos(service.opsUrl, 'payments', { enabled: true, latencyMs: 0, errorRate: 0.5 });
    errorsStartedAt = (performance.now() - t0) / 1000;
    await run(opts.errorSec);
    phase = 'recovery';
    opts.log('  fault over: waiting for recovery');
    await setChaos(service.opsUrl, 'payments', { enabled: false, latencyMs: 0, errorRate: 0 });
    chaosOffAt = (performance.now() - t0) / 1000;
    let healthy = 0;
    for (let i = 0; i < opts.maxRecoverySec && recoveredAt === null; i++) {
      await sleep(1000);
      const { t, open } = await tick();
      const last = timeline.at(-1)!;
      healthy = !open && last.failed === 0 && last.ok > 0 ? healthy + 1 : 0;
      if (healthy >= 2) recoveredAt = t - 1;
    }
  } finally {
    clearInterval(driver);
    await Promise.allSettled([...inflight]);
  }
  const after = await scrape(service.opsUrl);
  await service.stop();
  const elapsed = (performance.now() - t0) / 1000;
  const delta = (name: string, match: Record<string, string>) => sum(after, name, match) - sum(before, name, match);
  const retries = delta('ballast_retry_attempts_total', { policy: 'payment-retry' });
  const paymentCalls = delta('ballast_policy_calls_total', { policy: 'payment-retry' });
  const allowance = 0.2 * paymentCalls + 10 * elapsed;
  // Workbook: a 14.4x page on a 1h window detects an error ratio e after (14.4 * (1 - SLO) / e) hours.
  const observedErrorRatio = 0.5;
  const workbookDetectionSec = ((PAGE_BURN * (1 - OBJECTIVE)) / observedErrorRatio) * 3600;
  const pageAfterSec = pageAt === null ? null : pageAt - errorsStartedAt;
  const recoverySec = recoveredAt === null ? null : recoveredAt - chaosOffAt;
  const p99 = percentile(failedLatencies, 99);
  return {
    timeline,
    breakerOpened: breakerOpenedAt !== null,
    breakerOpenedAfterSec: breakerOpenedAt === null ? null : breakerOpenedAt - errorsStartedAt,
    retries,
    paymentCalls,
    retryBudgetAllowance: allowance,
    failedCheckoutP50Ms: percentile(failedLatencies, 50),
    failedCheckoutP99Ms: p99,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    pageAfterSec,
    workbookDetectionSec,
    recoverySec,
    goals: {
      breakerOpens: { value: breakerOpenedAt === null ? null : 1, goal: 1, met: breakerOpenedAt !== null },
      retriesWithinBudget: { value: retries, goal: allowance, met: retries <= allowance },
      failsFast: { value: p99, goal: REQUEST_TIMEOUT_MS / 5, met: p99 <= REQUEST_TIMEOUT_MS / 5 },
      pageWithinDetection: {
        value: pageAfterSec,
        goal: workbookDetectionSec,
        met: pageAfterSec !== null && pageAfterSec <= workbookDetectionSec,
      },
      recovers: { value: recoverySec, goal: opts.maxRecoverySec, met: recoverySec !== null },
    },
  };
}
