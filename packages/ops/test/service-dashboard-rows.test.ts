import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSlos } from '@ballast/slo';
import { describe, expect, it } from 'vitest';
import { generateOps } from '../src/generate.js';
import { parseServiceFile, resolveService, type ServiceSpec } from '../src/service.js';
import { REPOSITORY_ROOT, SERVICE, SLO_SPEC, generateFiles } from './support/retailflow.js';

const slos = parseSlos(readFileSync(join(REPOSITORY_ROOT, SLO_SPEC), 'utf8'), SLO_SPEC);

const depthRow = (expr: string) => ({
  'ballast-use': [
    {
      title: 'Queue',
      panels: [
        {
          title: 'Queue depth',
          description: 'Jobs waiting.',
          unit: 'short',
          queries: [{ expr, legend: '{{instance}}' }],
        },
      ],
    },
  ],
});
const generate = (spec: ServiceSpec) => generateOps({ slos, service: resolveService(spec) });

describe("a service's own dashboard rows", () => {
  it('are appended to the dashboard they name (RetailFlow: the outbox row on the USE dashboard)', () => {
    const use = JSON.parse(generateFiles().get('dashboards/ballast-use.json')!) as {
      panels: { title: string; type: string }[];
    };
    const titles = use.panels.map((p) => p.title);
    const row = titles.indexOf('Order events (outbox)');
    expect(row).toBeGreaterThan(0);
    expect(titles.slice(row + 1)).toEqual([
      'Outbox depth',
      'Oldest waiting event age',
      'Outbox lag p50 / p99',
      'Dead-lettered messages',
    ]);
    expect(SERVICE.metricSpecs.map((m) => m.name)).toContain('retailflow_outbox_oldest_age_seconds');
  });

  it('are held to the dashboard rules, with the metrics the service describes', () => {
    const expr = 'max by (instance) (shop_queue_depth{job=~"$job",instance=~"$instance"})';
    // Not described: the linter does not know the metric.
    expect(generate({ name: 'shop', dashboardRows: depthRow(expr) }).lint.join('\n')).toContain(
      '`shop_queue_depth` is not in the metric catalog',
    );
    // A name alone is typed by its suffix (no `_total`, `_bucket`, `_count` or `_sum`: a gauge), so the row lints.
    expect(
      generate({ name: 'shop', metrics: ['shop_queue_depth'], dashboardRows: depthRow(expr) }).lint,
    ).toEqual([]);
    const described: ServiceSpec = {
      name: 'shop',
      metrics: [{ name: 'shop_queue_depth', type: 'gauge', unit: 'jobs', help: 'Jobs waiting.' }],
      dashboardRows: depthRow(expr),
    };
    expect(generate(described).lint).toEqual([]);
    // Without the $job/$instance matchers the panel breaks the rules like a generated one would.
    expect(
      generate({ ...described, dashboardRows: depthRow('max(shop_queue_depth)') }).lint.join('\n'),
    ).toContain('does not match on $job');
    // A counter the service describes must be read through rate().
    const counter: ServiceSpec = {
      name: 'shop',
      metrics: [{ name: 'shop_jobs_total', type: 'counter', unit: 'jobs', help: 'Jobs done.' }],
      dashboardRows: depthRow('sum(shop_jobs_total{job=~"$job",instance=~"$instance"})'),
    };
    expect(generate(counter).lint.join('\n')).toContain('must be read through rate() or increase()');
  });

  it('name a dashboard the generator writes, or generation fails saying which', () => {
    expect(() =>
      generate({ name: 'shop', dashboardRows: { 'shop-overview': depthRow('x')['ballast-use'] } }),
    ).toThrow(
      /dashboardRows\.shop-overview: no generated dashboard has this uid \(expected one of ballast-red, /,
    );
  });

  it('are checked by the service file schema with a located error', () => {
    const parsed = parseServiceFile(
      'name: shop\ndashboardRows:\n  ballast-use:\n    - title: Queue\n      panels:\n        - title: Depth\n          unit: short\n',
      'ops.service.yaml',
    );
    expect('errors' in parsed).toBe(true);
    const errors = 'errors' in parsed ? parsed.errors : [];
    expect(errors.map((e) => `${e.line}:${e.path}: ${e.message}`)).toContain(
      '6:dashboardRows.ballast-use[0].panels[0]: expected a field `description`',
    );
  });
});
