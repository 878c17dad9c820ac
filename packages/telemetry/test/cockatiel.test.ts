import { ManualClock, setErrorHandler } from '@ballast/core';
import {
  CircuitBreakerPolicy as BallastBreaker,
  ConsecutiveBreaker as BallastConsecutive,
} from '@ballast/resilience';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  ConstantBackoff,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  fallback,
  handleAll,
  handleWhen,
  NoopPolicy,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderMetrics } from '../src/exposition.js';
import { type MetricsRegistry, createMetricsRegistry } from '../src/metrics-registry.js';
import { fromCockatiel, observeCockatiel } from '../src/policy/cockatiel.js';
import { observePolicy } from '../src/policy/policy-metrics.js';
import { startTelemetry } from '../src/tracing/start-telemetry.js';
import { parseExposition } from './support/exposition-parser.js';

/**
 * Every `ballast_*` sample of the registry as `name{labels} value`, sorted; histogram buckets left out (their
 * `_count` and `_sum` say what was observed).
 */
async function series(metrics: MetricsRegistry): Promise<string[]> {
  const { families } = parseExposition(await renderMetrics(metrics, 'prometheus'));
  const out: string[] = [];
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (!s.name.startsWith('ballast_') || s.name.endsWith('_bucket')) continue;
      const labels = Object.entries(s.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      out.push(`${s.name}{${labels}} ${Number(s.value.toFixed(6))}`);
    }
  }
  return out.sort();
}

/** A call that takes `ms` on the (fake) performance clock cockatiel times calls with, then settles. */
function takes<T>(ms: number, outcome: () => T): () => Promise<T> {
  return () => {
    vi.advanceTimersByTime(ms);
    return new Promise<T>((resolve) => resolve(outcome()));
  };
}
const boom = (message = 'provider down') => {
  throw new Error(message);
};

afterEach(() => {
  vi.useRealTimers();
  setErrorHandler(undefined);
});

describe('observeCockatiel with real cockatiel 3 policies', () => {
  it('circuit breaker: calls, durations, refusals, state and every transition', async () => {
    // cockatiel times calls with performance.now() and opens/half-opens with Date.now(): both faked, no waiting.
    vi.useFakeTimers({ toFake: ['performance', 'Date'] });
    const metrics = createMetricsRegistry();
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(2) });
    observeCockatiel(metrics, { payments: breaker });

    await breaker.execute(takes(20, () => 'ok'));
    await expect(breaker.execute(takes(300, boom))).rejects.toThrow('provider down');
    await expect(breaker.execute(takes(300, boom))).rejects.toThrow('provider down'); // opens
    const refused = await breaker.execute(() => 'never runs').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BrokenCircuitError); // the caller gets cockatiel's own error, untouched
    expect(await series(metrics)).toContain(
      'ballast_circuit_breaker_state{policy="payments",state="open"} 1',
    );

    vi.advanceTimersByTime(1_000);
    await breaker.execute(takes(10, () => 'ok')); // half-open test call succeeds: closed again
    const isolation = breaker.isolate();
    await expect(breaker.execute(() => 'never runs')).rejects.toThrow('circuit breaker is open');
    isolation.dispose();

    expect(await series(metrics)).toEqual([
      'ballast_circuit_breaker_state{policy="payments",state="closed"} 1',
      'ballast_circuit_breaker_state{policy="payments",state="half-open"} 0',
      'ballast_circuit_breaker_state{policy="payments",state="isolated"} 0',
      'ballast_circuit_breaker_state{policy="payments",state="open"} 0',
      'ballast_circuit_breaker_transitions_total{from="closed",policy="payments",to="isolated"} 1',
      'ballast_circuit_breaker_transitions_total{from="closed",policy="payments",to="open"} 1',
      'ballast_circuit_breaker_transitions_total{from="half-open",policy="payments",to="closed"} 1',
      'ballast_circuit_breaker_transitions_total{from="isolated",policy="payments",to="closed"} 1',
      'ballast_circuit_breaker_transitions_total{from="open",policy="payments",to="half-open"} 1',
      'ballast_policy_call_duration_seconds_count{outcome="failure",policy="payments"} 2',
      'ballast_policy_call_duration_seconds_count{outcome="success",policy="payments"} 2',
      'ballast_policy_call_duration_seconds_sum{outcome="failure",policy="payments"} 0.6',
      'ballast_policy_call_duration_seconds_sum{outcome="success",policy="payments"} 0.03',
      'ballast_policy_calls_total{outcome="failure",policy="payments"} 2',
      'ballast_policy_calls_total{outcome="rejected",policy="payments"} 2',
      'ballast_policy_calls_total{outcome="success",policy="payments"} 2',
      'ballast_policy_rejections_total{policy="payments",reason="circuit-isolated"} 1',
      'ballast_policy_rejections_total{policy="payments",reason="circuit-open"} 1',
    ]);
  });

  it('retry: retries, outcomes once per call (given up, or an error it does not handle), no attempt durations', async () => {
    const metrics = createMetricsRegistry();
    const policy = retry(
      handleWhen((e) => e.message === 'transient'),
      { maxAttempts: 2, backoff: new ConstantBackoff(0) },
    );
    observeCockatiel(metrics, { 'payment-retry': policy });

    let calls = 0;
    expect(await policy.execute(() => (++calls === 1 ? boom('transient') : 'ok'))).toBe('ok'); // 1 retry
    await expect(policy.execute(() => boom('transient'))).rejects.toThrow('transient'); // 2 retries, gives up
    await expect(policy.execute(() => boom('fatal'))).rejects.toThrow('fatal'); // not handled: no retry

    expect(await series(metrics)).toEqual([
      'ballast_policy_calls_total{outcome="failure",policy="payment-retry"} 2',
      'ballast_policy_calls_total{outcome="success",policy="payment-retry"} 1',
      'ballast_retry_attempts_total{policy="payment-retry"} 3',
    ]);
  });

  it('bulkhead: in-flight, queued, limit and utilization at scrape time; refusals', async () => {
    const metrics = createMetricsRegistry();
    const policy = bulkhead(2, 1);
    observeCockatiel(metrics, { inventory: policy });

    const gates: (() => void)[] = [];
    const held = () => new Promise<string>((resolve) => gates.push(() => resolve('done')));
    const running = [policy.execute(held), policy.execute(held), policy.execute(held)]; // 2 run, 1 queued
    await expect(policy.execute(held)).rejects.toThrow('Bulkhead capacity exceeded');
    const during = await series(metrics);
    expect(during).toEqual([
      'ballast_bulkhead_in_flight{policy="inventory"} 2',
      'ballast_bulkhead_limit{policy="inventory"} 2',
      'ballast_bulkhead_queued{policy="inventory"} 1',
      'ballast_bulkhead_rejections_total{policy="inventory",reason="bulkhead-full"} 1',
      'ballast_bulkhead_utilization_ratio{policy="inventory"} 1',
      'ballast_policy_calls_total{outcome="rejected",policy="inventory"} 1',
      'ballast_policy_rejections_total{policy="inventory",reason="bulkhead-full"} 1',
    ]);
    gates.splice(0).forEach((release) => release()); // the two running calls end
    await new Promise((resolve) => setImmediate(resolve)); // the queued call starts
    expect(gates).toHaveLength(1);
    gates.splice(0).forEach((release) => release());
    expect(await Promise.all(running)).toEqual(['done', 'done', 'done']);
    const after = await series(metrics);
    expect(after).toContain('ballast_bulkhead_in_flight{policy="inventory"} 0');
    expect(after).toContain('ballast_bulkhead_queued{policy="inventory"} 0');
  });

  it('timeout: timeouts counted, timed-out calls are failures with their duration', async () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date', 'setTimeout', 'clearTimeout'] });
    const metrics = createMetricsRegistry();
    const policy = timeout(50, TimeoutStrategy.Aggressive);
    observeCockatiel(metrics, { 'payment-timeout': policy });

    await policy.execute(takes(5, () => 'fast'));
    const slow = policy.execute(() => new Promise(() => undefined)).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(50);
    expect(String(await slow)).toContain('timed out after 50ms');

    expect(await series(metrics)).toEqual([
      'ballast_policy_call_duration_seconds_count{outcome="failure",policy="payment-timeout"} 1',
      'ballast_policy_call_duration_seconds_count{outcome="success",policy="payment-timeout"} 1',
      'ballast_policy_call_duration_seconds_sum{outcome="failure",policy="payment-timeout"} 0.05',
      'ballast_policy_call_duration_seconds_sum{outcome="success",policy="payment-timeout"} 0.005',
      'ballast_policy_calls_total{outcome="failure",policy="payment-timeout"} 1',
      'ballast_policy_calls_total{outcome="success",policy="payment-timeout"} 1',
      'ballast_timeouts_total{policy="payment-timeout"} 1',
    ]);
  });

  it('fallback: a served fallback is counted as one, an error it does not handle as a failure', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const metrics = createMetricsRegistry();
    const policy = fallback(
      handleWhen((e) => e.message === 'transient'),
      'cached',
    );
    const plain = new NoopPolicy();
    observeCockatiel(metrics, { prices: policy, passthrough: plain });

    expect(await policy.execute(takes(40, () => 'fresh'))).toBe('fresh');
    expect(await policy.execute(() => boom('transient'))).toBe('cached');
    await expect(policy.execute(takes(2, () => boom('fatal')))).rejects.toThrow('fatal');
    await plain.execute(takes(1, () => 'ok'));

    expect(await series(metrics)).toEqual([
      'ballast_fallbacks_total{policy="prices"} 1',
      'ballast_policy_call_duration_seconds_count{outcome="failure",policy="prices"} 1',
      'ballast_policy_call_duration_seconds_count{outcome="success",policy="passthrough"} 1',
      'ballast_policy_call_duration_seconds_count{outcome="success",policy="prices"} 1',
      'ballast_policy_call_duration_seconds_sum{outcome="failure",policy="prices"} 0.002',
      'ballast_policy_call_duration_seconds_sum{outcome="success",policy="passthrough"} 0.001',
      'ballast_policy_call_duration_seconds_sum{outcome="success",policy="prices"} 0.04',
      'ballast_policy_calls_total{outcome="failure",policy="prices"} 1',
      'ballast_policy_calls_total{outcome="success",policy="passthrough"} 1',
      'ballast_policy_calls_total{outcome="success",policy="prices"} 1',
    ]);
  });

  it('feeds the same series, with the same values, as a Ballast breaker driven through the same calls', async () => {
    const drive = async (execute: (fn: () => Promise<string>) => Promise<unknown>) => {
      await execute(() => Promise.resolve('ok'));
      for (let i = 0; i < 3; i++)
        await execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    };
    const ours = createMetricsRegistry();
    const ballast = new BallastBreaker({
      name: 'payments',
      breaker: new BallastConsecutive({ threshold: 2 }),
      clock: new ManualClock(0),
    });
    observePolicy(ours, ballast);
    await drive((fn) => ballast.execute(fn));

    const theirs = createMetricsRegistry();
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(2) });
    observeCockatiel(theirs, { payments: breaker });
    await drive((fn) => breaker.execute(fn));

    const withoutSums = (lines: string[]) => lines.filter((l) => !l.includes('_sum{'));
    expect(withoutSums(await series(theirs))).toEqual(withoutSums(await series(ours)));
  });
});

describe('span events from cockatiel policies', () => {
  it('adds ballast.circuit_open, ballast.rejected and ballast.retry to the caller span', async () => {
    const exporter = new InMemorySpanExporter();
    const handle = startTelemetry({ exporter, handleSignals: false });
    try {
      const metrics = createMetricsRegistry();
      const breaker = circuitBreaker(handleAll, {
        halfOpenAfter: 60_000,
        breaker: new ConsecutiveBreaker(1),
      });
      const retrying = retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(0) });
      const full = bulkhead(1, 0);
      observeCockatiel(metrics, { payments: breaker, 'payment-retry': retrying, inventory: full });

      await trace.getTracer('t').startActiveSpan('checkout', async (span) => {
        let n = 0;
        await retrying.execute(() => (++n === 1 ? boom('transient') : 'ok'));
        await breaker.execute(() => boom()).catch(() => undefined); // opens
        await breaker.execute(() => 'refused').catch(() => undefined);
        let release = () => undefined as void;
        const holding = full.execute(() => new Promise<void>((resolve) => (release = resolve)));
        await full.execute(() => 'refused').catch(() => undefined);
        release();
        await holding;
        span.end();
      });
      await handle.forceFlush();
      const [span] = exporter.getFinishedSpans();
      expect(
        span!.events.map((e) => [
          e.name,
          e.attributes?.['ballast.policy'],
          e.attributes?.['ballast.policy.kind'],
          e.attributes?.['ballast.rejection.reason'] ?? e.attributes?.['ballast.retry.attempt'],
        ]),
      ).toEqual([
        ['ballast.retry', 'payment-retry', 'retry', 1],
        ['ballast.circuit_open', 'payments', 'circuit-breaker', 'circuit-open'],
        ['ballast.rejected', 'inventory', 'bulkhead', 'bulkhead-full'],
      ]);
      expect(span!.events[0]!.attributes?.['ballast.retry.delay_ms']).toBe(0);
    } finally {
      await handle.shutdown();
    }
  });
});

describe('fromCockatiel and observeCockatiel contracts', () => {
  it('reads each cockatiel policy kind from its members', () => {
    const kinds = [
      circuitBreaker(handleAll, { halfOpenAfter: 1, breaker: new ConsecutiveBreaker(1) }),
      retry(handleAll, { maxAttempts: 1 }),
      bulkhead(1),
      timeout(10, TimeoutStrategy.Cooperative),
      fallback(handleAll, 0),
      new NoopPolicy(),
    ].map((p, i) => fromCockatiel(`p${i}`, p).kind);
    expect(kinds).toEqual(['circuit-breaker', 'retry', 'bulkhead', 'timeout', 'fallback', 'pipeline']);
  });

  it('counts nothing twice, and disposing stops counting and puts the breaker execute back', async () => {
    const metrics = createMetricsRegistry();
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(1) });
    const first = observeCockatiel(metrics, { payments: breaker });
    const second = observeCockatiel(metrics, { payments: breaker });
    expect(Object.prototype.hasOwnProperty.call(breaker, 'execute')).toBe(true);
    await breaker.execute(() => boom()).catch(() => undefined);
    await breaker.execute(() => 'refused').catch(() => undefined);
    const counted = await series(metrics);
    expect(counted).toContain('ballast_policy_calls_total{outcome="failure",policy="payments"} 1');
    expect(counted).toContain('ballast_policy_calls_total{outcome="rejected",policy="payments"} 1');

    second.dispose();
    first.dispose();
    expect(Object.prototype.hasOwnProperty.call(breaker, 'execute')).toBe(false);
    expect(breaker.execute).toBe(CircuitBreakerPolicy.prototype.execute);
    await breaker.execute(() => 'refused').catch(() => undefined);
    expect(await series(metrics)).toContain(
      'ballast_policy_calls_total{outcome="rejected",policy="payments"} 1',
    );
  });

  it('leaves breaker refusals uncounted, and execute alone, with breakerRejections: false', async () => {
    const metrics = createMetricsRegistry();
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(1) });
    observeCockatiel(metrics, { payments: breaker }, { breakerRejections: false });
    expect(Object.prototype.hasOwnProperty.call(breaker, 'execute')).toBe(false);
    await breaker.execute(() => boom()).catch(() => undefined);
    await breaker.execute(() => 'refused').catch(() => undefined);
    expect((await series(metrics)).filter((l) => l.includes('rejected'))).toEqual([]);
  });

  it('keeps a wrap() of policies working when its breaker is observed', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const metrics = createMetricsRegistry();
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 60_000, breaker: new ConsecutiveBreaker(1) });
    const retrying = retry(handleAll, { maxAttempts: 1, backoff: new ConstantBackoff(0) });
    const policy = wrap(retrying, breaker);
    observeCockatiel(metrics, { 'payment-retry': retrying, payments: breaker });
    await expect(policy.execute(() => boom())).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(await series(metrics)).toEqual([
      'ballast_circuit_breaker_state{policy="payments",state="closed"} 0',
      'ballast_circuit_breaker_state{policy="payments",state="half-open"} 0',
      'ballast_circuit_breaker_state{policy="payments",state="isolated"} 0',
      'ballast_circuit_breaker_state{policy="payments",state="open"} 1',
      'ballast_circuit_breaker_transitions_total{from="closed",policy="payments",to="open"} 1',
      'ballast_policy_call_duration_seconds_count{outcome="failure",policy="payments"} 1',
      'ballast_policy_call_duration_seconds_sum{outcome="failure",policy="payments"} 0',
      'ballast_policy_calls_total{outcome="failure",policy="payment-retry"} 1',
      'ballast_policy_calls_total{outcome="failure",policy="payments"} 1',
      'ballast_policy_calls_total{outcome="rejected",policy="payments"} 1',
      'ballast_policy_rejections_total{policy="payments",reason="circuit-open"} 1',
      'ballast_retry_attempts_total{policy="payment-retry"} 1',
    ]);
  });

  it('rejects what it cannot observe with a message that says what was expected', () => {
    const metrics = createMetricsRegistry();
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 1, breaker: new ConsecutiveBreaker(1) });
    expect(() => observeCockatiel(metrics, { all: wrap(breaker, new NoopPolicy()) })).toThrow(
      'Expected `policies.all` to be a single cockatiel policy, not the result of `wrap()` (observe each wrapped policy under its own name), got `"wrap() of 2 policies"` (string)',
    );
    expect(() => observeCockatiel(metrics, { x: {} as never })).toThrow(
      'Expected `policies.x` to be a cockatiel 3 policy (with `onSuccess` and `onFailure`), got `{}` (object)',
    );
    observeCockatiel(metrics, { payments: breaker });
    expect(() => observeCockatiel(metrics, { 'payments-2': breaker })).toThrow(
      'it is observed as `payments`',
    );
  });

  it('reports a listener failure through the error handler and never throws into the call', async () => {
    const reported: string[] = [];
    setErrorHandler((_error, context) => reported.push(context));
    const breaker = circuitBreaker(handleAll, { halfOpenAfter: 1, breaker: new ConsecutiveBreaker(5) });
    fromCockatiel('payments', breaker).onEvent(() => {
      throw new Error('listener bug');
    });
    expect(await breaker.execute(() => 'ok')).toBe('ok');
    expect(reported).toEqual(['event listener threw']);
  });
});
