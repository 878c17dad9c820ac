import { join } from 'node:path';
import { loadSlos } from '@ballast/slo';
import { describe, expect, it } from 'vitest';
import { sloArtifacts } from '../src/slo.js';

const specs = join(import.meta.dirname, '../../slo/test/fixtures/openslo/examples.yaml');

describe('runbooks of an SLO with several objectives', () => {
  it('give each objective its own page, naming the other objectives and a query for every budget', async () => {
    const slos = await loadSlos([specs]);
    const { runbooks } = sloArtifacts(slos, '', 'prometheus/slo-rules.yml');
    const pages = runbooks.filter((r) => r.slo.startsWith('foo-slo-'));
    expect(pages.map((p) => p.name)).toEqual([
      'WebAvailabilityFooSloFooTotalErrorsBurnRatePage',
      'WebAvailabilityFooSloFooTotalErrorsBurnRateTicket',
      'WebAvailabilityFooSloBarTotalErrorsBurnRatePage',
      'WebAvailabilityFooSloBarTotalErrorsBurnRateTicket',
    ]);
    const strict = pages.find((p) => p.name === 'WebAvailabilityFooSloBarTotalErrorsBurnRatePage')!;
    expect(strict.runbook.meaning).toContain('promises 99.99% good events');
    expect(strict.runbook.meaning).toContain(
      'It is objective `bar-total-errors` of the SLO `foo-slo`, whose other objectives (`foo-slo-foo-total-errors` at 98%) have their own budgets and alerts',
    );
    expect(strict.runbook.queries).toContainEqual({
      title: 'Error budget left of every objective of `foo-slo` (recorded)',
      expr: 'slo:period_error_budget_remaining:ratio{slo=~"foo-slo-bar-total-errors|foo-slo-foo-total-errors"}',
    });
    // The alert carries the objective label, so dashboards and routes can tell the objectives apart.
    expect(strict.labels).toContain('objective');
  });
});
