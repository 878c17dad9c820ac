import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG } from '@ballast/telemetry';
import { generateOps } from '../src/generate.js';
import { parseServiceFile, resolveService } from '../src/service.js';
import { SERVICE, generateFiles } from './support/retailflow.js';

const SERVICE_FILE = (dashboards: string, metrics = '  - shop_orders_total') => `name: shop
metrics:
${metrics}
dashboards:
${dashboards}`;

const ORDERS = `  - uid: shop-business
    title: Shop / Orders
    description: Orders per second.
    tags: [shop]
    jobMetric: shop_orders_total
    rows:
      - title: Orders
        panels:
          - title: Orders per second
            description: Orders placed per second.
            unit: reqps
            queries:
              - expr: 'sum(rate(shop_orders_total{job=~"$job",instance=~"$instance"}[$__rate_interval]))'
                legend: orders
`;

function generate(text: string) {
  const parsed = parseServiceFile(text, 'shop.yaml');
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return generateOps({ slos: [], service: resolveService(parsed.service), catalog: METRIC_CATALOG });
}

describe("a service file's own dashboards", () => {
  it('are written beside the generated ones and linted with the metrics the service declares', () => {
    const out = generate(SERVICE_FILE(ORDERS));
    expect(out.lint).toEqual([]);
    const json = JSON.parse(out.files.get('dashboards/shop-business.json')!) as {
      title: string;
      editable: boolean;
    };
    expect(json).toMatchObject({ title: 'Shop / Orders', editable: false });
    expect(out.files.has('dashboards/ballast-red.json')).toBe(true);
  });

  it('take exemplar queries like the rows added to generated dashboards', () => {
    const withExemplar = ORDERS.replace(
      '                legend: orders\n',
      '                legend: orders\n                exemplar: true\n',
    );
    expect(withExemplar).not.toBe(ORDERS);
    const out = generate(SERVICE_FILE(withExemplar));
    const json = JSON.parse(out.files.get('dashboards/shop-business.json')!) as {
      panels: { targets?: { exemplar?: boolean }[]; panels?: { targets?: { exemplar?: boolean }[] }[] }[];
    };
    const targets = json.panels.flatMap((p) => [
      ...(p.targets ?? []),
      ...(p.panels ?? []).flatMap((q) => q.targets ?? []),
    ]);
    expect(targets.some((t) => t.exemplar === true)).toBe(true);
  });

  it('fail the lint on an undeclared metric, a counter read without rate() or a selector without $job', () => {
    expect(generate(SERVICE_FILE(ORDERS, '  - shop_other_total')).lint.join('\n')).toMatch(
      /`shop_orders_total` is not in the metric catalog/,
    );
    const raw = ORDERS.replace(
      `sum(rate(shop_orders_total{job=~"$job",instance=~"$instance"}[$__rate_interval]))`,
      'sum(shop_orders_total{instance=~"$instance"})',
    );
    const lint = generate(SERVICE_FILE(raw)).lint.join('\n');
    expect(lint).toMatch(/counter `shop_orders_total` must be read through rate\(\) or increase\(\)/);
    expect(lint).toMatch(/does not match on \$job/);
  });

  it('are refused with their location when malformed or named like a generated one', () => {
    const bad = parseServiceFile(
      SERVICE_FILE(ORDERS.replace('uid: shop-business', 'uid: ballast-red')),
      'shop.yaml',
    );
    expect('errors' in bad && bad.errors.map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`)).toEqual(
      [expect.stringMatching(/^5:\d+ dashboards\[0\]\.uid: expected a uid of its own .*got `ballast-red`/)],
    );
    const missing = parseServiceFile(
      SERVICE_FILE(ORDERS.replace('            unit: reqps\n', '')),
      'shop.yaml',
    );
    expect('errors' in missing && missing.errors[0]!.path).toMatch(/dashboards\[0\]\.rows\[0\]\.panels\[0\]/);
  });

  it("RetailFlow's usage and cost dashboard shows every cost metric", () => {
    const dashboard = generateFiles().get('dashboards/retailflow-usage-cost.json')!;
    for (const metric of SERVICE.metrics.filter((m) => m.startsWith('retailflow_cost_'))) {
      expect(dashboard).toContain(metric);
    }
  });
});
