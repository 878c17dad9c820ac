import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineSlo } from '../src/define.js';
import { isSpecValidationError } from '../src/openslo/errors.js';
import { loadSlos, loadSpecFiles } from '../src/openslo/load.js';
import { parseSlos, parseSpecs } from '../src/openslo/parse.js';

const valid = join(import.meta.dirname, 'fixtures', 'valid');

describe('valid OpenSLO specs', () => {
  it('resolves SLI, AlertPolicy and AlertCondition references across files', async () => {
    const { slos, errors } = await loadSpecFiles(['slos.yaml', 'sli.yaml'], valid);
    expect(errors).toEqual([]);
    expect(slos.map((s) => s.name)).toEqual(['checkout-availability', 'checkout-latency', 'checkout-uptime']);
    const availability = slos[0]!;
    expect(availability.indicator).toEqual({
      kind: 'ratio',
      counts: 'good',
      good: {
        type: 'prometheus',
        kind: 'selector',
        query: 'http_requests_total{job="checkout",code!~"5.."}',
      },
      total: { type: 'prometheus', kind: 'selector', query: 'http_requests_total{job="checkout"}' },
    });
    expect(availability.alerting.minEvents).toBe(20);
    expect(availability.labels).toEqual({ team: 'payments', tier: 'gold,web' });
    expect(availability.displayName).toBe('Checkout availability');
    expect(availability.source).toEqual({ file: 'slos.yaml', line: 9, column: 1 });
    expect(
      availability.alerting.conditions.map((c) => [
        c.name,
        c.severity,
        c.burnRate,
        c.longWindow,
        c.shortWindow,
        c.for,
      ]),
    ).toEqual([
      ['fast-burn', 'page', 14.4, '1h', '5m', undefined],
      ['slow-burn', 'ticket', 3, '1d', '2h', '5m'],
    ]);
  });

  it('reads a histogram latency SLI with a calendar month in a time zone', () => {
    const { slos } = parseSpecs(
      ['slos.yaml', 'sli.yaml'].map((f) => ({ file: f, text: readFileSync(join(valid, f), 'utf8') })),
    );
    const latency = slos.find((s) => s.name === 'checkout-latency')!;
    expect(latency.indicator).toEqual({
      kind: 'latency',
      histogram: 'http_request_duration_seconds',
      matchers: 'job="checkout"',
      threshold: 0.3,
      le: '0.3',
    });
    expect(latency.timeWindow).toEqual({
      kind: 'calendar',
      unit: 'month',
      duration: '1M',
      timeZone: 'Europe/Berlin',
    });
    expect(latency.objective).toBeCloseTo(0.99, 12);
    expect(latency.alerting.conditions.map((c) => c.name)).toEqual([
      'page-1h',
      'page-6h',
      'ticket-1d',
      'ticket-3d',
    ]);
  });

  it('reads time-slice budgeting and full PromQL expressions with {{.window}}', () => {
    const { slos } = parseSpecs(
      ['slos.yaml', 'sli.yaml'].map((f) => ({ file: f, text: readFileSync(join(valid, f), 'utf8') })),
    );
    const uptime = slos.find((s) => s.name === 'checkout-uptime')!;
    expect(uptime.budgeting).toEqual({
      method: 'Timeslices',
      timesliceTarget: 0.95,
      timesliceWindow: '1m',
      timesliceWindowMs: 60_000,
    });
    expect(uptime.indicator.kind === 'ratio' && uptime.indicator.total.kind).toBe('expression');
    expect(uptime.alerting.conditions[0]!.longWindow).toBe('56m'); // scaled to 28 days
  });

  it('builds the same model from YAML as from the typed API', () => {
    const [fromYaml] = parseSlos(
      `apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
spec:
  service: api
  indicator:
    metadata: { name: api-requests }
    spec:
      ratioMetric:
        counter: true
        bad: { metricSource: { type: Prometheus, spec: { query: 'http_requests_total{code=~"5.."}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: http_requests_total } } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
`,
      'api.yaml',
    );
    const typed = defineSlo({
      service: 'api',
      name: 'api-availability',
      objective: 0.999,
      window: '30d',
      indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
    });
    const { source, ...rest } = fromYaml!;
    expect(source).toEqual({ file: 'api.yaml', line: 1, column: 1 });
    expect(rest).toEqual(typed);
  });

  it('loadSlos throws one SpecValidationError listing every problem', async () => {
    const error: unknown = await loadSlos(['missing.yaml', 'slos.yaml'], valid).catch((e: unknown) => e);
    expect(isSpecValidationError(error)).toBe(true);
    if (!isSpecValidationError(error)) return;
    expect(error.errors[0]!.message).toBe('cannot read the file (ENOENT)');
    // slos.yaml alone cannot resolve its references to sli.yaml.
    expect(error.errors.map((e) => e.path)).toContain('spec.indicatorRef');
    expect(error.message).toContain('missing.yaml:1:1: cannot read the file (ENOENT)');
  });

  it('loads the RetailFlow specs', async () => {
    const slos = await loadSlos(
      ['examples/retailflow/slo/retailflow.yaml'],
      join(import.meta.dirname, '..', '..', '..'),
    );
    expect(slos.length).toBeGreaterThan(0);
  });
});
