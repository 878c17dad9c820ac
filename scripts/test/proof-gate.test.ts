import { describe, expect, it } from 'vitest';
import { gate, gateMarkdown, type GoalRule } from '../proof/gate.js';

const rules: Record<string, GoalRule> = {
  'load.p99': { tolerance: 0.1 },
  'load.goodput': { waived: 'known gap, tracked' },
  'load.share': { tolerance: 0.05, waivedInQuick: 'short steps spread further' },
  'load.served': { tolerance: 0.03, toleranceInQuick: 0.15 },
};

describe('the proof gate', () => {
  it('passes when every goal is met', () => {
    const result = gate(
      {
        hostile: { goals: { no5xx: { value: 0, goal: 0, met: true } } },
        outages: { steps: [{ name: 'redis', met: true }] },
      },
      rules,
    );
    expect(result.passed).toBe(true);
    expect(result.lines.map((l) => l.verdict)).toEqual(['met', 'met']);
  });

  it('fails on a missed exact goal, naming section and goal', () => {
    const result = gate({ hostile: { goals: { no5xx: { value: 3, goal: 0, met: false } } } }, rules);
    expect(result.passed).toBe(false);
    expect(result.lines[0]).toMatchObject({ section: 'hostile', goal: 'no5xx', verdict: 'failed' });
    expect(gateMarkdown(result)).toContain('FAILED');
  });

  it('fails on a failed outage step', () => {
    const result = gate({ outages: { steps: [{ name: 'PostgreSQL restarted', met: false }] } }, rules);
    expect(result.passed).toBe(false);
    expect(result.lines[0]?.goal).toBe('PostgreSQL restarted');
  });

  it('accepts a miss within tolerance in either direction, and fails one beyond it', () => {
    const within = gate({ load: { goals: { p99: { value: 105, goal: 100, met: false } } } }, rules);
    expect(within.passed).toBe(true);
    expect(within.lines[0]?.verdict).toBe('within tolerance');
    const beyond = gate({ load: { goals: { p99: { value: 111, goal: 100, met: false } } } }, rules);
    expect(beyond.passed).toBe(false);
    const under = gate({ load: { goals: { p99: { value: 85, goal: 100, met: false } } } }, rules);
    expect(under.passed).toBe(false);
  });

  it('reports a waived goal with its reason without failing', () => {
    const result = gate({ load: { goals: { goodput: { value: 0.6, goal: 0.9, met: false } } } }, rules);
    expect(result.passed).toBe(true);
    expect(result.lines[0]).toMatchObject({ verdict: 'waived', note: 'known gap, tracked' });
  });

  it('waives a goal for the quick form only, when its rule says so', () => {
    const missed = { load: { goals: { share: { value: 0.8, goal: 0.9, met: false } } } };
    const quick = gate({ quick: true, ...missed }, rules);
    expect(quick.passed).toBe(true);
    expect(quick.lines[0]).toMatchObject({ verdict: 'waived', note: 'short steps spread further' });
    const full = gate({ quick: false, ...missed }, rules);
    expect(full.passed).toBe(false);
    expect(full.lines[0]?.verdict).toBe('failed');
    // Within its tolerance, either form passes it as such.
    const close = gate(
      { quick: false, load: { goals: { share: { value: 0.87, goal: 0.9, met: false } } } },
      rules,
    );
    expect(close.lines[0]?.verdict).toBe('within tolerance');
  });

  it('accepts a wider miss in the quick form when its rule says so, and only there', () => {
    const missed = { load: { goals: { served: { value: 0.9, goal: 0.99, met: false } } } };
    const quick = gate({ quick: true, ...missed }, rules);
    expect(quick.passed).toBe(true);
    expect(quick.lines[0]).toMatchObject({ verdict: 'within tolerance' });
    expect(quick.lines[0]?.note).toMatch(/tolerance 15% \(quick form\)/);
    expect(gate({ quick: false, ...missed }, rules).passed).toBe(false);
    // Beyond the quick form's tolerance too: the door that shed at 1x fails either form.
    const far = { load: { goals: { served: { value: 0.8, goal: 0.99, met: false } } } };
    expect(gate({ quick: true, ...far }, rules).passed).toBe(false);
  });

  it('fails a missed goal that has no value to measure the miss by', () => {
    const result = gate(
      { overload: { goals: { criticalFirst: { critical: 0.1, sheddable: 0.5, met: false } } } },
      rules,
    );
    expect(result.passed).toBe(false);
  });
});
