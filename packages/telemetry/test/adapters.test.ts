import { ManualClock, setErrorHandler } from '@ballast/core';
import { AimdLimit, ConcurrencyLimiter } from '@ballast/resilience';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { renderMetrics } from '../src/exposition.js';
import { observePolicy } from '../src/policy/policy-metrics.js';
import { observeBulkhead } from '../src/use/bulkhead.js';
import { observeConcurrencyLimiter } from '../src/use/concurrency-limiter.js';
import { observePgPool } from '../src/use/pg-pool.js';
import { observeSlos } from '../src/slo/slo-metrics.js';
import { parseExposition } from './support/exposition-parser.js';
import { sampleValue } from './support/http.js';
import { FakeBulkhead, FakeLimiter, FakePolicy, FakePool, sloStatus } from './support/fakes.js';

async function parsed(metrics: ReturnType<typeof createMetricsRegistry>) {
  return parseExposition(await renderMetrics(metrics, 'prometheus')).families;
}

type Families = Awaited<ReturnType<typeof parsed>>;
/** A limiter's `ballast_concurrency_queued` and `ballast_concurrency_tenant_queued` samples. */
const queuedAt = (f: Families, labels: Record<string, string>) =>
  sampleValue(f.get('ballast_concurrency_queued'), 'ballast_concurrency_queued', labels);
const tenantQueuedAt = (f: Families, policy: string) =>
  sampleValue(f.get('ballast_concurrency_tenant_queued'), 'ballast_concurrency_tenant_queued', { policy });

afterEach(() => setErrorHandler(undefined));

describe('policy metrics from resilience events', () => {
  it('publishes calls, durations, rejections, breaker state and transitions', async () => {
    const metrics = createMetricsRegistry();
    const breaker = new FakePolicy('payments', 'circuit-breaker');
    observePolicy(metrics, breaker);
    observePolicy(metrics, breaker); // a second observe counts nothing twice
    breaker.emit({ type: 'success', durationMs: 20 });
    breaker.emit({ type: 'failure', durationMs: 300, error: new Error('x'), counted: true });
    breaker.emit({ type: 'state-change', from: 'closed', to: 'open' });
    breaker.emit({ type: 'rejected', reason: 'circuit-open' });
    const f = await parsed(metrics);
    const calls = f.get('ballast_policy_calls_total');
    expect(sampleValue(calls, 'ballast_policy_calls_total', { policy: 'payments', outcome: 'success' })).toBe(
      1,
    );
    expect(sampleValue(calls, 'ballast_policy_calls_total', { policy: 'payments', outcome: 'failure' })).toBe(
      1,
    );
    expect(
      sampleValue(calls, 'ballast_policy_calls_total', { policy: 'payments', outcome: 'rejected' }),
    ).toBe(1);
    const d = f.get('ballast_policy_call_duration_seconds');
    expect(sampleValue(d, 'ballast_policy_call_duration_seconds_sum', { outcome: 'failure' })).toBeCloseTo(
      0.3,
    );
    expect(
      sampleValue(d, 'ballast_policy_call_duration_seconds_bucket', { outcome: 'success', le: '0.025' }),
    ).toBe(1);
    const state = f.get('ballast_circuit_breaker_state');
    expect(sampleValue(state, 'ballast_circuit_breaker_state', { state: 'open' })).toBe(1);
    expect(sampleValue(state, 'ballast_circuit_breaker_state', { state: 'closed' })).toBe(0);
    expect(
      sampleValue(
        f.get('ballast_circuit_breaker_transitions_total'),
        'ballast_circuit_breaker_transitions_total',
        {
          from: 'closed',
          to: 'open',
        },
      ),
    ).toBe(1);
  });

  it.each([
    ['retry', { type: 'retry', attempt: 1, delayMs: 10, error: null }, 'ballast_retry_attempts_total', {}],
    ['retry', { type: 'retry-budget-exhausted', error: null }, 'ballast_retry_budget_exhausted_total', {}],
    [
      'rate-limiter',
      { type: 'rate-limit', key: 'k', allowed: false, remaining: 0, retryAfterMs: 5 },
      'ballast_rate_limit_decisions_total',
      { decision: 'limited' },
    ],
    [
      'concurrency-limiter',
      { type: 'rejected', reason: 'shed', priority: 'sheddable' },
      'ballast_load_shed_total',
      { priority: 'sheddable' },
    ],
    [
      'bulkhead',
      { type: 'rejected', reason: 'bulkhead-full' },
      'ballast_bulkhead_rejections_total',
      { reason: 'bulkhead-full' },
    ],
    ['timeout', { type: 'timeout', timeoutMs: 100 }, 'ballast_timeouts_total', {}],
    ['fallback', { type: 'fallback', error: null }, 'ballast_fallbacks_total', {}],
    ['cache', { type: 'cache', result: 'hit' }, 'ballast_cache_results_total', { result: 'hit' }],
    ['chaos', { type: 'chaos', fault: 'latency' }, 'ballast_chaos_injections_total', { fault: 'latency' }],
    [
      'rate-limiter',
      { type: 'store-error', error: null, failOpen: true },
      'ballast_policy_store_errors_total',
      { fail_mode: 'open' },
    ],
  ] as const)('%s event %o counts in %s', async (kind, event, metric, labels) => {
    const metrics = createMetricsRegistry();
    const policy = new FakePolicy('p', kind);
    observePolicy(metrics, policy);
    policy.emit(event);
    policy.emit(event);
    expect(sampleValue((await parsed(metrics)).get(metric), metric, { policy: 'p', ...labels })).toBe(2);
  });

  it('stops counting after dispose and never throws into the policy', async () => {
    const metrics = createMetricsRegistry();
    const policy = new FakePolicy('p', 'retry');
    const sub = observePolicy(metrics, policy);
    policy.emit({ type: 'retry', attempt: 1, delayMs: 1, error: null });
    sub.dispose();
    policy.emit({ type: 'retry', attempt: 2, delayMs: 1, error: null });
    const f = await parsed(metrics);
    expect(
      sampleValue(f.get('ballast_retry_attempts_total'), 'ballast_retry_attempts_total', { policy: 'p' }),
    ).toBe(1);
    const reported: string[] = [];
    setErrorHandler((_e, context) => reported.push(context));
    observePolicy(metrics, policy);
    expect(() => policy.emit({ type: 'success', durationMs: Number.NaN })).not.toThrow();
  });
});

describe('USE adapters', () => {
  it('reads bulkhead and limiter gauges at scrape time and counts their rejections', async () => {
    const metrics = createMetricsRegistry();
    const bulkhead = new FakeBulkhead('inventory');
    const limiter = new FakeLimiter('ingress');
    observeBulkhead(metrics, bulkhead);
    const limiterSub = observeConcurrencyLimiter(metrics, limiter);
    bulkhead.inFlight = 3;
    bulkhead.queued = 2;
    bulkhead.emit({ type: 'rejected', reason: 'queue-timeout' });
    limiter.emit({ type: 'rejected', reason: 'shed', priority: 'sheddable' });
    // Regression: a limiter's queue drop is a shed too; it was missing from ballast_load_shed_total.
    limiter.emit({ type: 'rejected', reason: 'queue-timeout', priority: 'critical' });
    let f = await parsed(metrics);
    expect(
      sampleValue(f.get('ballast_bulkhead_in_flight'), 'ballast_bulkhead_in_flight', { policy: 'inventory' }),
    ).toBe(3);
    expect(
      sampleValue(f.get('ballast_bulkhead_queued'), 'ballast_bulkhead_queued', { policy: 'inventory' }),
    ).toBe(2);
    expect(
      sampleValue(f.get('ballast_bulkhead_utilization_ratio'), 'ballast_bulkhead_utilization_ratio', {}),
    ).toBe(0.75);
    expect(
      sampleValue(f.get('ballast_bulkhead_rejections_total'), 'ballast_bulkhead_rejections_total', {
        reason: 'queue-timeout',
      }),
    ).toBe(1);
    expect(
      sampleValue(f.get('ballast_concurrency_limit'), 'ballast_concurrency_limit', { policy: 'ingress' }),
    ).toBe(10);
    expect(
      sampleValue(f.get('ballast_concurrency_in_flight'), 'ballast_concurrency_in_flight', {
        priority: 'default',
      }),
    ).toBe(2);
    expect(
      sampleValue(f.get('ballast_load_shed_total'), 'ballast_load_shed_total', { priority: 'sheddable' }),
    ).toBe(1);
    expect(
      sampleValue(f.get('ballast_load_shed_total'), 'ballast_load_shed_total', { priority: 'critical' }),
    ).toBe(1);
    expect(queuedAt(f, { priority: 'critical' })).toBe(2);
    expect(queuedAt(f, { priority: 'sheddable' })).toBe(0);
    expect(tenantQueuedAt(f, 'ingress')).toBe(1);
    limiter.limit = 6;
    limiter.queued.critical = 0;
    limiter.queued.sheddable = 5;
    bulkhead.inFlight = 4;
    f = await parsed(metrics);
    expect(sampleValue(f.get('ballast_concurrency_limit'), 'ballast_concurrency_limit', {})).toBe(6);
    expect(queuedAt(f, { priority: 'critical' })).toBe(0);
    expect(queuedAt(f, { priority: 'sheddable' })).toBe(5);
    expect(
      sampleValue(f.get('ballast_bulkhead_utilization_ratio'), 'ballast_bulkhead_utilization_ratio', {}),
    ).toBe(1);
    limiterSub.dispose();
    f = await parsed(metrics);
    expect(f.get('ballast_concurrency_limit')?.samples).toHaveLength(0);
  });

  it("exports a real ConcurrencyLimiter's queue and its tenant waiters", async () => {
    const metrics = createMetricsRegistry();
    const fixed = (limit: number) => new AimdLimit({ initialLimit: limit, minLimit: limit, maxLimit: limit });
    // One place: a second call waits in the queue.
    const door = new ConcurrencyLimiter({ name: 'door', clock: new ManualClock(0), algorithm: fixed(1) });
    // A tenant's second call waits for the tenant's own place (limit 1 a tenant), outside the queue.
    const tenants = new ConcurrencyLimiter({
      name: 'tenants',
      clock: new ManualClock(0),
      algorithm: fixed(10),
      partitions: { tenants: true, tenantLimit: { critical: 1 }, tenantQueue: { critical: 1 } },
    });
    const subs = [observeConcurrencyLimiter(metrics, door), observeConcurrencyLimiter(metrics, tenants)];
    const held = await door.acquire('critical');
    const waiting = door.acquire('critical');
    const acme = await tenants.acquire('critical', 'acme');
    const acmeAgain = tenants.acquire('critical', 'acme');
    let f = await parsed(metrics);
    expect(queuedAt(f, { policy: 'door', priority: 'critical' })).toBe(1);
    expect(queuedAt(f, { policy: 'door', priority: 'sheddable' })).toBe(0);
    expect(tenantQueuedAt(f, 'door')).toBe(0);
    expect(queuedAt(f, { policy: 'tenants', priority: 'critical' })).toBe(0);
    expect(tenantQueuedAt(f, 'tenants')).toBe(1);

    held.success();
    acme.success();
    const permits = await Promise.all([waiting, acmeAgain]);
    f = await parsed(metrics);
    expect(queuedAt(f, { policy: 'door', priority: 'critical' })).toBe(0);
    expect(tenantQueuedAt(f, 'tenants')).toBe(0);
    for (const p of permits) p.success();
    for (const sub of subs) sub.dispose();
  });

  it('counts a bulkhead observed both as a policy and as a bulkhead once', async () => {
    const metrics = createMetricsRegistry();
    const bulkhead = new FakeBulkhead('inventory');
    observePolicy(metrics, bulkhead);
    observeBulkhead(metrics, bulkhead);
    bulkhead.emit({ type: 'rejected', reason: 'bulkhead-full' });
    const f = await parsed(metrics);
    expect(
      sampleValue(f.get('ballast_policy_calls_total'), 'ballast_policy_calls_total', { outcome: 'rejected' }),
    ).toBe(1);
  });

  it('publishes a pg pool and counts its errors without swallowing unhandled ones', async () => {
    const metrics = createMetricsRegistry();
    const pool = new FakePool();
    observePgPool(metrics, pool, { name: 'orders' });
    expect(() => pool.emit('error', new Error('terminated'))).toThrow('terminated');
    pool.on('error', () => {});
    pool.emit('error', new Error('again'));
    const f = await parsed(metrics);
    const conns = f.get('ballast_pg_pool_connections');
    expect(sampleValue(conns, 'ballast_pg_pool_connections', { pool: 'orders', state: 'active' })).toBe(3);
    expect(sampleValue(conns, 'ballast_pg_pool_connections', { pool: 'orders', state: 'idle' })).toBe(2);
    expect(sampleValue(f.get('ballast_pg_pool_waiting_clients'), 'ballast_pg_pool_waiting_clients', {})).toBe(
      1,
    );
    expect(
      sampleValue(f.get('ballast_pg_pool_utilization_ratio'), 'ballast_pg_pool_utilization_ratio', {}),
    ).toBe(0.3);
    expect(
      sampleValue(f.get('ballast_pg_pool_errors_total'), 'ballast_pg_pool_errors_total', { pool: 'orders' }),
    ).toBe(2);
  });
});

describe('SLO metrics', () => {
  it('publishes budget, burn rates, SLIs and firing alerts, calling statusAll once per scrape', async () => {
    const metrics = createMetricsRegistry();
    let calls = 0;
    let statuses = [sloStatus()];
    observeSlos(metrics, {
      statusAll: () => {
        calls++;
        return statuses;
      },
    });
    let f = await parsed(metrics);
    expect(calls).toBe(1);
    const labels = { slo: 'checkout-availability', service: 'checkout' };
    expect(
      sampleValue(
        f.get('ballast_slo_error_budget_remaining_ratio'),
        'ballast_slo_error_budget_remaining_ratio',
        labels,
      ),
    ).toBe(-0.5);
    expect(
      sampleValue(f.get('ballast_slo_burn_rate'), 'ballast_slo_burn_rate', { ...labels, window: '1h' }),
    ).toBe(15);
    expect(sampleValue(f.get('ballast_slo_sli_ratio'), 'ballast_slo_sli_ratio', { window: '5m' })).toBe(
      0.9856,
    );
    expect(
      sampleValue(f.get('ballast_slo_sli_ratio'), 'ballast_slo_sli_ratio', { window: '1h' }),
    ).toBeUndefined();
    expect(
      sampleValue(f.get('ballast_slo_alert_firing'), 'ballast_slo_alert_firing', { severity: 'page' }),
    ).toBe(1);
    expect(
      sampleValue(f.get('ballast_slo_alert_firing'), 'ballast_slo_alert_firing', { severity: 'ticket' }),
    ).toBe(0);
    expect(
      sampleValue(f.get('ballast_slo_policy_state'), 'ballast_slo_policy_state', { state: 'exhausted' }),
    ).toBe(1);
    statuses = [sloStatus({ slo: 'latency', timeToExhaustionMs: 3_600_000, policy: 'ok' })];
    f = await parsed(metrics);
    expect(calls).toBe(2);
    expect(
      sampleValue(f.get('ballast_slo_time_to_exhaustion_seconds'), 'ballast_slo_time_to_exhaustion_seconds', {
        slo: 'latency',
      }),
    ).toBe(3600);
    // The SLO that went away has no series left.
    expect(
      f.get('ballast_slo_burn_rate')?.samples.some((s) => s.labels.slo === 'checkout-availability'),
    ).toBe(false);
  });
});
