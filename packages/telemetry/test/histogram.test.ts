import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { BallastHistogram } from '../src/histogram.js';
import { renderMetrics } from '../src/exposition.js';
import { parseExposition } from './support/exposition-parser.js';

describe('BallastHistogram', () => {
  function setup(labelNames: string[] = ['method', 'route']) {
    const registry = new Registry();
    const h = new BallastHistogram('op_duration_seconds', 'Op duration.', labelNames, [0.1, 1, 0.5]);
    registry.registerMetric(h as never);
    return { registry, h };
  }

  it('keeps cumulative buckets, sum and count per label set, in prom-client shape', async () => {
    const { registry, h } = setup();
    h.observe({ method: 'GET', route: '/a' }, 0.05);
    h.observe({ method: 'GET', route: '/a' }, 0.5); // on a bound: counted in that bucket (le is inclusive)
    h.observe({ method: 'GET', route: '/a' }, 3);
    h.observe({ method: 'POST' }, 0.7); // absent label stays absent
    h.observe({ method: 'GET', route: '/a' }, Number.NaN); // ignored
    const f = parseExposition(await renderMetrics(registry, 'prometheus')).families.get(
      'op_duration_seconds',
    )!;
    const get = (name: string, labels: Record<string, string>) =>
      f.samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(get('op_duration_seconds_bucket', { method: 'GET', route: '/a', le: '0.1' })).toBe(1);
    expect(get('op_duration_seconds_bucket', { method: 'GET', route: '/a', le: '0.5' })).toBe(2);
    expect(get('op_duration_seconds_bucket', { method: 'GET', route: '/a', le: '1' })).toBe(2);
    expect(get('op_duration_seconds_bucket', { method: 'GET', route: '/a', le: '+Inf' })).toBe(3);
    expect(get('op_duration_seconds_sum', { method: 'GET', route: '/a' })).toBeCloseTo(3.55);
    expect(get('op_duration_seconds_count', { method: 'GET', route: '/a' })).toBe(3);
    expect(get('op_duration_seconds_count', { method: 'POST' })).toBe(1);
    expect(h.seriesCount).toBe(2);
    // prom-client's own rendering reads it too.
    expect(await registry.metrics()).toContain('op_duration_seconds_count{method="POST"} 1');
  });

  it('keeps the latest exemplar of each bucket, shown only in OpenMetrics', async () => {
    const { registry, h } = setup();
    h.observe({ method: 'GET', route: '/a' }, 0.2, { trace_id: 'a'.repeat(32), span_id: '1'.repeat(16) });
    h.observe({ method: 'GET', route: '/a' }, 0.3, { trace_id: 'b'.repeat(32), span_id: '2'.repeat(16) });
    h.observe({ method: 'GET', route: '/a' }, 0.05);
    const f = parseExposition(await renderMetrics(registry, 'openmetrics'), true).families.get(
      'op_duration_seconds',
    )!;
    const withExemplar = f.samples.filter((s) => s.exemplar);
    expect(withExemplar.map((s) => [s.labels.le, s.exemplar!.labels.trace_id, s.exemplar!.value])).toEqual([
      ['0.5', 'b'.repeat(32), 0.3],
    ]);
    expect(await renderMetrics(registry, 'prometheus')).not.toContain('trace_id');
  });

  it('works without labels and resets', async () => {
    const { registry, h } = setup([]);
    h.observe({}, 0.2);
    h.observe({}, 0.2);
    expect(h.seriesCount).toBe(1);
    h.reset();
    h.observe({}, 2);
    const f = parseExposition(await renderMetrics(registry, 'prometheus')).families.get(
      'op_duration_seconds',
    )!;
    expect(f.samples.find((s) => s.name === 'op_duration_seconds_count')?.value).toBe(1);
  });
});
