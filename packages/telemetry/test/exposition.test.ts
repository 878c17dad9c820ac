import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { formatValue, negotiateFormat, renderMetrics } from '../src/exposition.js';
import { normalizeMethod } from '../src/http/method.js';
import { parseExposition } from './support/exposition-parser.js';

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'prometheus'],
    ['text/plain;version=0.0.4', 'prometheus'],
    ['*/*', 'prometheus'],
    ['application/openmetrics-text', 'openmetrics'],
    // What Prometheus sends when it wants OpenMetrics (exemplar storage, native scrape protocols).
    [
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
      'openmetrics',
    ],
    ['text/plain;q=1,application/openmetrics-text;q=0.2', 'prometheus'],
    ['application/openmetrics-text;q=0', 'prometheus'],
  ] as const)('%s -> %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });
});

describe('renderMetrics', () => {
  it('escapes label values and help, names counters per format, and never mutates the registry', async () => {
    const metrics = createMetricsRegistry({ defaultLabels: { service: 'a"b' } });
    metrics.counter('ballast_retry_attempts_total').inc({ policy: 'we\\ird "name"\nline' }, 2);
    for (let round = 0; round < 2; round++) {
      const om = await renderMetrics(metrics, 'openmetrics');
      expect(om).toContain('# TYPE ballast_retry_attempts counter');
      const omParsed = parseExposition(om, true).families.get('ballast_retry_attempts')!;
      expect(omParsed.samples[0]!.name).toBe('ballast_retry_attempts_total');
      expect(omParsed.samples[0]!.labels).toEqual({ service: 'a"b', policy: 'we\\ird "name"\nline' });
      const text = await renderMetrics(metrics, 'prometheus');
      const family = parseExposition(text).families.get('ballast_retry_attempts_total')!;
      expect(family.type).toBe('counter');
      expect(family.samples[0]!.value).toBe(2);
    }
  });

  it('renders a plain prom-client registry too', async () => {
    const registry = new Registry();
    new Counter({ name: 'jobs_total', help: 'Jobs.\nDone.', registers: [registry] }).inc();
    const parsed = parseExposition(await renderMetrics(registry, 'prometheus'));
    expect(parsed.families.get('jobs_total')!.help).toBe('Jobs.\nDone.');
  });

  it('yields to the event loop between metric families when a slice is used up', async () => {
    const metrics = createMetricsRegistry();
    metrics.counter('ballast_retry_attempts_total').inc({ policy: 'p' });
    metrics.counter('ballast_timeouts_total').inc({ policy: 'p' });
    let ranDuringRender = false;
    const render = renderMetrics(metrics, 'prometheus', { sliceMs: 0 });
    void tick().then(() => (ranDuringRender = true));
    const text = await render;
    expect(ranDuringRender).toBe(true);
    expect(parseExposition(text).families.size).toBe(2);
  });

  it('formats special values', () => {
    expect([Infinity, -Infinity, NaN, 0.005, 1e21].map(formatValue)).toEqual([
      '+Inf',
      '-Inf',
      'NaN',
      '0.005',
      '1e+21',
    ]);
  });
});

describe('normalizeMethod', () => {
  it.each([
    ['GET', 'GET'],
    ['get', 'GET'],
    ['PATCH', 'PATCH'],
    ['PURGE', '_OTHER'],
    ['PROPFIND', '_OTHER'],
    [undefined, '_OTHER'],
  ] as const)('%s -> %s', (method, label) => {
    expect(normalizeMethod(method)).toBe(label);
  });
});
