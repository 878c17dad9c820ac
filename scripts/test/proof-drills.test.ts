import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  checkEvidence,
  compressExpr,
  compressHistoryGuards,
  compressRules,
  sharedFault,
  type CommandRun,
} from '../proof/drills.js';
import { fillPlaceholders, readRunbook } from '../proof/runbook.js';
import { ROOT } from '../proof/service.js';

describe('runbook drills: reading a generated runbook', () => {
  it("takes the diagnosis commands, queries and mitigation commands of a runbook, and its export line's variables", async () => {
    const runbook = await readRunbook(ROOT, 'BallastTenantRateLimitSpike');
    expect(runbook.diagnosisShell).toContain('curl -s "$RETAILFLOW/readyz"');
    expect(runbook.diagnosisShell.some((c) => c.startsWith('export '))).toBe(false);
    expect(runbook.diagnosisQueries).toContain(
      'topk(10, sum by (tenant) (rate(http_server_request_duration_seconds_count{http_response_status_code="429"}[5m])))',
    );
    // The alert rule at the top is not a diagnosis query.
    expect(runbook.diagnosisQueries.some((q) => q.includes('> 0.5'))).toBe(false);
    expect(runbook.mitigationShell.filter((c) => c.includes('/admin/tenants/<tenant>/limit'))).toHaveLength(
      2,
    );
    expect(runbook.variables).toEqual(
      expect.arrayContaining([
        'RETAILFLOW',
        'RETAILFLOW_OPS',
        'OPS_TOKEN',
        'ADMIN_KEY',
        'RETAILFLOW_LOG',
        'TENANT_KEY',
      ]),
    );
  });

  it('fills placeholders from the alert labels and names one the alert does not carry', () => {
    expect(fillPlaceholders('POST /admin/tenants/<tenant>/limit', { tenant: 'globex' }, 'here')).toBe(
      'POST /admin/tenants/globex/limit',
    );
    expect(() => fillPlaceholders('breaker <policy>', { tenant: 'globex' }, 'runbooks/X.md')).toThrow(
      'runbooks/X.md: placeholder <policy> is not a label of the alert',
    );
  });

  it('every shell command of every runbook uses only the variables its export line sets', async () => {
    const alerts = readdirSync(path.join(ROOT, 'runbooks'))
      .filter((f) => /^[A-Z].*\.md$/.test(f) && f !== 'README.md')
      .map((f) => f.replace(/\.md$/, ''));
    expect(alerts.length).toBeGreaterThan(10);
    for (const alert of alerts) {
      const runbook = await readRunbook(ROOT, alert);
      for (const command of [...runbook.diagnosisShell, ...runbook.mitigationShell]) {
        for (const m of command.matchAll(/\$([A-Z_][A-Z0-9_]*)/g)) {
          expect(runbook.variables, `${alert}: ${command}`).toContain(m[1]);
        }
      }
    }
  });
});

describe('runbook drills: compressed time', () => {
  it('divides range selectors and subqueries, with a floor for diagnosis queries', () => {
    expect(compressExpr('rate(x[5m])', 20)).toBe('rate(x[15000ms])');
    expect(compressExpr('increase(x[15m]) and y[1h30m:1m]', 20)).toBe(
      'increase(x[45000ms]) and y[270000ms:3000ms]',
    );
    expect(compressExpr('rate(x[5m])', 20, 30_000)).toBe('rate(x[30000ms])');
    expect(compressExpr('x{le="30"} > 30', 20)).toBe('x{le="30"} > 30');
  });

  it('divides every `for:` and window of the generated rule file and keeps its thresholds', () => {
    const text = readFileSync(
      path.join(ROOT, 'examples/retailflow/prometheus/operational-alerts.yaml'),
      'utf8',
    );
    const rules = (
      parse(compressRules(text, 20)) as {
        groups: { rules: { alert: string; expr: string; for?: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    const byName = new Map(rules.map((r) => [r.alert, r]));
    expect(byName.get('BallastCircuitBreakerStuckOpen')).toMatchObject({
      for: '6000ms',
      expr: 'sum by (job, instance, policy) (increase(ballast_circuit_breaker_transitions_total{from="half-open",to="open"}[45000ms])) >= 3',
    });
    expect(byName.get('RetailFlowOutboxEventsWaiting')).toMatchObject({
      for: '0s',
      expr: 'max by (job) (retailflow_outbox_oldest_age_seconds) > 20',
    });
    expect(byName.get('BallastTargetDown')?.for).toBe('6000ms');
  });
});

describe('runbook drills: checking a diagnosis', () => {
  const sh = (command: string, output: string, exitCode = 0): CommandRun => ({
    kind: 'sh',
    command,
    exitCode,
    output,
  });
  const dlq = {
    what: 'the queue holds the message',
    in: /retailflow_dlq/,
    shows: /retailflow_dlq_depth\{[^}]*\} 1\b/,
  };

  it('passes when every piece of evidence shows in a command it names', () => {
    const checked = checkEvidence(
      [dlq],
      [
        sh('curl -s "$RETAILFLOW/readyz"', '{"status":"ready"}'),
        sh('curl metrics | grep -E retailflow_dlq', 'retailflow_dlq_depth{queue="q"} 1\n'),
      ],
    );
    expect(checked).toEqual({ lines: ['ok: the queue holds the message'], failure: '' });
  });

  it('names the evidence that is missing, even when another command shows it', () => {
    // The pattern shows in the readyz output, but only the metrics command counts.
    const checked = checkEvidence(
      [dlq],
      [
        sh('curl -s "$RETAILFLOW/readyz"', 'retailflow_dlq_depth{queue="q"} 1'),
        sh('curl metrics | grep -E retailflow_dlq', 'retailflow_dlq_depth{queue="q"} 0\n'),
      ],
    );
    expect(checked.lines).toEqual(['MISSING: the queue holds the message']);
    expect(checked.failure).toBe(
      'the diagnosis did not point at the cause: MISSING: the queue holds the message',
    );
  });

  it('fails on a command that fails, unless a piece of evidence expects that exit code', () => {
    const refused = { what: 'connection refused', in: /readyz/, shows: /^$/, exitCodes: [7] };
    const down = [sh('curl -s "$RETAILFLOW/readyz"', '', 7)];
    expect(checkEvidence([refused], down)).toEqual({ lines: ['ok: connection refused'], failure: '' });
    const broken = checkEvidence(
      [dlq],
      [...down, sh('curl metrics | grep -E retailflow_dlq', 'retailflow_dlq_depth{} 1')],
    );
    expect(broken.failure).toMatch(
      /^runbook commands failed: `curl -s "\$RETAILFLOW\/readyz"` \(exit 7: \)$/,
    );
    // An expected exit code with the wrong output is still missing evidence.
    expect(checkEvidence([{ ...refused, shows: /refused/ }], down).failure).toMatch(
      /MISSING: connection refused/,
    );
  });
});

describe('runbook drills: the levers the new drills pull', () => {
  it("the dead-letter runbook's queries read the alert's job and queue, and its mitigation discards and replays", async () => {
    const runbook = await readRunbook(ROOT, 'RetailFlowDeadLetterQueueNotEmpty');
    for (const q of runbook.diagnosisQueries) expect(q).toContain('job="<job>",queue="<queue>"');
    expect(
      runbook.diagnosisShell.some((c) => c.includes('dead-lettered') && c.includes('$RETAILFLOW_LOG')),
    ).toBe(true);
    const lever = runbook.mitigationShell.filter((c) => c.includes('/admin/dead-letters/<queue>'));
    expect(lever.map((c) => /"action":"(\w+)"/.exec(c)?.[1])).toEqual(['replay', 'discard']);
  });

  it('the outbox-lag and event-loop runbooks switch off the chaos that drills them', async () => {
    const lag = await readRunbook(ROOT, 'RetailFlowOutboxLagHigh');
    expect(lag.mitigationShell.some((c) => c.includes('"target":"relay","enabled":false'))).toBe(true);
    for (const q of lag.diagnosisQueries) expect(q).toContain('job="<job>"');
    const loop = await readRunbook(ROOT, 'BallastEventLoopSaturated');
    expect(loop.mitigationShell.some((c) => c.includes('"target":"eventloop","enabled":false'))).toBe(true);
  });
});

describe('runbook drills: SLO history guards in compressed time', () => {
  it('divides the window lengths the history is compared with, and nothing else', () => {
    const page =
      'slo:sli_error:ratio_rate56m{slo="a"} * clamp_max(slo:history:seconds{slo="a",service="s"} / 3360, 1) > (14.4 * 0.005)';
    expect(compressHistoryGuards(page, 20)).toBe(
      'slo:sli_error:ratio_rate56m{slo="a"} * clamp_max(slo:history:seconds{slo="a",service="s"} / 168, 1) > (14.4 * 0.005)',
    );
    expect(
      compressHistoryGuards(
        'x * clamp_max((time() - slo:history_start:timestamp{slo="a",service="s"}) / 3360, 1) > 0.072',
        20,
      ),
    ).toBe('x * clamp_max((time() - slo:history_start:timestamp{slo="a",service="s"}) / 168, 1) > 0.072');
    expect(compressHistoryGuards('clamp_max(slo:history:seconds / 280, 1)', 3)).toBe(
      'clamp_max(slo:history:seconds / 93.333, 1)',
    );
    expect(compressHistoryGuards('sum(rate(x[5m])) / 3360', 20)).toBe('sum(rate(x[5m])) / 3360');
  });

  it('compresses the generated checkout SLO rules: windows and guards alike, only the groups asked for', () => {
    const text = readFileSync(path.join(ROOT, 'examples/retailflow/prometheus/slo-rules.yaml'), 'utf8');
    const doc = parse(compressRules(text, 20, /^slo-retailflow-checkout-availability-/)) as {
      groups: { name: string; rules: { record?: string; expr: string }[] }[];
    };
    expect(doc.groups.map((g) => g.name).every((n) => n.includes('checkout-availability'))).toBe(true);
    // The page's windows are held to the history where their ratios are recorded (one rule, one `window` each).
    const ratios = doc.groups
      .filter((g) => g.name.endsWith('-sli-and-alerts'))
      .flatMap((g) => g.rules)
      .find((r) => r.record === 'slo:sli_error:ratio')!;
    expect(ratios.expr).not.toContain('[56m]');
    expect(ratios.expr).toContain('/ 168, 1)');
    expect(ratios.expr).toContain('/ 14, 1)');
    expect(ratios.expr).not.toContain('/ 3360');
  });
});

describe("runbook drills: the discovery drills' Prometheus", () => {
  it('keeps only the alerts asked for, and every recording rule', () => {
    const operational = readFileSync(
      path.join(ROOT, 'examples/retailflow/prometheus/operational-alerts.yaml'),
      'utf8',
    );
    const picked = (
      parse(
        compressRules(operational, 20, undefined, /^(?:BallastTargetMissing|Retailflow\w+SliNoData)$/),
      ) as {
        groups: { rules: { alert?: string; for?: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    expect(picked.map((r) => r.alert).sort()).toEqual([
      'BallastTargetMissing',
      'RetailflowCatalogLatencySliNoData',
      'RetailflowCheckoutAvailabilitySliNoData',
      'RetailflowOrderEventFreshnessSliNoData',
    ]);
    expect(picked.every((r) => r.for === '15000ms')).toBe(true);

    const slo = readFileSync(path.join(ROOT, 'examples/retailflow/prometheus/slo-rules.yaml'), 'utf8');
    const recorded = (
      parse(compressRules(slo, 20, /-sli-and-alerts$/, /^$/)) as {
        groups: { rules: { alert?: string; record?: string; expr: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    expect(recorded.some((r) => r.alert !== undefined)).toBe(false);
    // The three SLIs' page-window ratios (the shortest, 4m40s, is what the no-data alerts look for), one rule per
    // SLO under a `window` label whose value stays as written while its range is compressed.
    const ratios = recorded.filter((r) => r.record === 'slo:sli_error:ratio');
    expect(ratios).toHaveLength(3);
    for (const r of ratios) {
      expect(r.expr).toContain('[14000ms]');
      expect(r.expr).toContain('"window", "4m40s"');
    }
  });
});

describe('runbook drills: one fault shared by several drills', () => {
  /** A shared fault whose injections and undoings are listed in `calls`. */
  const recorded = (drills: string[]) => {
    const calls: string[] = [];
    const fault = sharedFault(
      drills,
      () => {
        calls.push('inject');
        return Promise.resolve();
      },
      () => {
        calls.push('undo');
        return Promise.resolve();
      },
    );
    return { calls, fault };
  };

  it('is injected once, and undone once every drill sharing it has come to its mitigation', async () => {
    const { calls, fault } = recorded(['A', 'B']);
    await Promise.all([fault.inject(), fault.inject()]);
    expect(calls).toEqual(['inject']);
    let aDone = false;
    const a = fault.mitigate('A').then(() => (aDone = true));
    await Promise.resolve();
    await Promise.resolve();
    // A waits for B: undoing the fault now would resolve B's alert before B has diagnosed it.
    expect(aDone).toBe(false);
    expect(calls).toEqual(['inject']);
    await fault.mitigate('B');
    await a;
    expect(calls).toEqual(['inject', 'undo']);
    await fault.leave('A');
    await fault.leave('B');
    expect(calls).toEqual(['inject', 'undo']);
  });

  it('is undone when a drill that fails leaves instead of mitigating, and names a drill that does not share it', async () => {
    const { calls, fault } = recorded(['A', 'B']);
    await fault.inject();
    const a = fault.mitigate('A');
    await fault.leave('B'); // B's alert never fired: it gives up
    await a;
    expect(calls).toEqual(['inject', 'undo']);
    await expect(fault.mitigate('C')).rejects.toThrow('drill C does not share this fault (A, B do)');
  });

  it('undoes nothing when no drill injected it', async () => {
    const { calls, fault } = recorded(['A']);
    await fault.leave('A');
    expect(calls).toEqual([]);
  });
});
