import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG, catalogMetric } from '../src/catalog.js';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { renderMetrics } from '../src/exposition.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { httpClientMetrics } from '../src/http/client.js';
import { collectRuntimeMetrics } from '../src/use/runtime.js';
import { observeBulkhead } from '../src/use/bulkhead.js';
import { observeConcurrencyLimiter } from '../src/use/concurrency-limiter.js';
import { observePgPool } from '../src/use/pg-pool.js';
import { observePolicy } from '../src/policy/policy-metrics.js';
import { observeSlos } from '../src/slo/slo-metrics.js';
import { parseExposition } from './support/exposition-parser.js';
import { FakeBulkhead, FakeLimiter, FakePolicy, FakePool, sloStatus } from './support/fakes.js';

/** A registry with every Ballast metric source enabled and fed once. */
function everything() {
  const metrics = createMetricsRegistry({
    cardinality: { limits: { http_server_request_duration_seconds: { tenant: 1 } } },
  });
  collectRuntimeMetrics(metrics);
  const red = redMiddleware(metrics, { tenant: (req) => req.headers['x-tenant'] as string });
  for (const tenant of ['a', 'b']) {
    const res = Object.assign(new EventEmitter(), {
      statusCode: 500,
      writableFinished: true,
      headersSent: true,
    });
    red({ method: 'GET', url: '/', headers: { 'x-tenant': tenant } } as never, res as never, () => {});
    res.emit('close');
  }
  httpClientMetrics(metrics).start('GET', 'http://inventory/items').end({ statusCode: 503 });
  const bulkhead = new FakeBulkhead('bulkhead');
  observeBulkhead(metrics, bulkhead);
  bulkhead.emit({ type: 'rejected', reason: 'shed', priority: 'sheddable' });
  observeConcurrencyLimiter(metrics, new FakeLimiter('limiter'));
  observePgPool(metrics, new FakePool());
  observeSlos(metrics, { statusAll: () => [sloStatus({ timeToExhaustionMs: 1000 })] });
  const events: Record<string, unknown>[] = [
    { type: 'success', durationMs: 1 },
    { type: 'failure', durationMs: 1, error: null, counted: true },
    { type: 'rejected', reason: 'circuit-open' },
    { type: 'state-change', from: 'closed', to: 'open' },
    { type: 'retry', attempt: 1, delayMs: 1, error: null },
    { type: 'retry-budget-exhausted', error: null },
    { type: 'timeout', timeoutMs: 1 },
    { type: 'limit-change', from: 1, to: 2 },
    { type: 'rate-limit', key: 'k', allowed: true, remaining: 1, retryAfterMs: 0 },
    { type: 'store-error', error: null, failOpen: false },
    { type: 'fallback', error: null },
    { type: 'chaos', fault: 'error' },
    { type: 'cache', result: 'miss' },
  ];
  const breaker = new FakePolicy('breaker', 'circuit-breaker');
  observePolicy(metrics, breaker);
  for (const event of events) breaker.emit(event as { type: 'success' });
  return metrics;
}

describe('METRIC_CATALOG', () => {
  it('has one well-formed entry per name', () => {
    const names = METRIC_CATALOG.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const m of METRIC_CATALOG) {
      expect(m.name, m.name).toMatch(/^[a-z_][a-z0-9_]*$/);
      if (m.type === 'counter') expect(m.name, m.name).toMatch(/_total$/);
      else if (m.source === 'ballast') expect(m.name, m.name).not.toMatch(/_total$/);
      if (m.type === 'histogram') expect(m.buckets?.length, m.name).toBeGreaterThan(0);
      if (['seconds', 'bytes', 'ratio'].includes(m.unit))
        expect(m.name, m.name).toMatch(new RegExp(`_${m.unit}(_total)?$`));
      expect(m.help.length, m.name).toBeGreaterThan(10);
      expect(new Set(m.labels.map((l) => l.name)).size, m.name).toBe(m.labels.length);
    }
  });

  it.each(['prometheus', 'openmetrics'] as const)(
    'lists every metric a fully enabled registry emits, with its type and labels (%s)',
    async (format) => {
      const text = await renderMetrics(everything(), format);
      const { families } = parseExposition(text, format === 'openmetrics');
      const emitted = new Set<string>();
      for (const family of families.values()) {
        // OpenMetrics names counter families without `_total`.
        const name =
          format === 'openmetrics' && family.type === 'counter' ? `${family.name}_total` : family.name;
        emitted.add(name);
        const spec = catalogMetric(name);
        expect(spec, `${name} is emitted but not in METRIC_CATALOG`).toBeDefined();
        expect(family.type, name).toBe(spec!.type);
        const allowed = new Set([
          ...spec!.labels.map((l) => l.name),
          ...(spec!.type === 'histogram' ? ['le'] : []),
        ]);
        for (const sample of family.samples) {
          for (const label of Object.keys(sample.labels))
            expect(allowed.has(label), `${name}{${label}}`).toBe(true);
          if (spec!.type === 'histogram' && sample.name.endsWith('_bucket')) {
            const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
            expect([...spec!.buckets!, Infinity], name).toContain(le);
          }
        }
        for (const label of spec!.labels) {
          if (!label.values || family.samples.length === 0) continue;
          for (const sample of family.samples) {
            const value = sample.labels[label.name];
            if (value !== undefined && value !== '__overflow__')
              expect(label.values, `${name}{${label.name}}`).toContain(value);
          }
        }
      }
      // And the other way round: every catalogued metric for this platform is emitted.
      const missing = METRIC_CATALOG.filter(
        (m) => (!m.platforms || m.platforms.includes(process.platform)) && !emitted.has(m.name),
      ).map((m) => m.name);
      expect(missing).toEqual([]);
    },
  );
});
