import { describe, expect, it } from 'vitest';
import { BreakerMachine, HALF_OPEN_FULL, ISOLATED, OPEN } from '../src/circuit-breaker/BreakerMachine.js';
import { ConsecutiveBreaker } from '../src/circuit-breaker/ConsecutiveBreaker.js';
import type { BreakerState } from '@ballast/core';

/**
 * Table-driven transitions of the pure breaker state machine. Each step is applied at time `t`:
 * `ok`/`fail`/`slow` acquire and complete a call, `acquire` only admits, `isolate`/`reset` act by hand. `expect` is
 * the state read after the step, `refused` the refusal code when the call was not admitted.
 */
type Step = {
  t: number;
  do: 'ok' | 'fail' | 'slow' | 'acquire' | 'isolate' | 'reset';
  expect: BreakerState;
  refused?: number;
};

const options = {
  halfOpenAfterMs: 1_000,
  probes: 2,
  successThreshold: 2,
  backoffMultiplier: 2,
  maxHalfOpenAfterMs: 3_000,
};

const cases: { name: string; steps: Step[] }[] = [
  {
    name: 'opens after the threshold of consecutive failures',
    steps: [
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 1, do: 'fail', expect: 'closed' },
      { t: 2, do: 'fail', expect: 'open' },
      { t: 3, do: 'ok', expect: 'open', refused: OPEN },
    ],
  },
  {
    name: 'a success in between resets the count',
    steps: [
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 1, do: 'fail', expect: 'closed' },
      { t: 2, do: 'ok', expect: 'closed' },
      { t: 3, do: 'fail', expect: 'closed' },
      { t: 4, do: 'fail', expect: 'closed' },
    ],
  },
  {
    name: 'slow calls count as failures for the consecutive breaker',
    steps: [
      { t: 0, do: 'slow', expect: 'closed' },
      { t: 1, do: 'fail', expect: 'closed' },
      { t: 2, do: 'slow', expect: 'open' },
    ],
  },
  {
    name: 'reads half-open once the open time passed, closes after the success threshold',
    steps: [
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'open' },
      { t: 999, do: 'ok', expect: 'open', refused: OPEN },
      { t: 1_000, do: 'ok', expect: 'half-open' },
      { t: 1_001, do: 'ok', expect: 'closed' },
    ],
  },
  {
    name: 'a failed probe reopens with a doubled open time, capped',
    steps: [
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'open' },
      { t: 1_000, do: 'fail', expect: 'open' },
      { t: 2_999, do: 'ok', expect: 'open', refused: OPEN },
      { t: 3_000, do: 'fail', expect: 'open' },
      { t: 5_999, do: 'ok', expect: 'open', refused: OPEN },
      { t: 6_000, do: 'fail', expect: 'open' },
      { t: 8_999, do: 'ok', expect: 'open', refused: OPEN },
      { t: 9_000, do: 'ok', expect: 'half-open' },
      { t: 9_000, do: 'ok', expect: 'closed' },
    ],
  },
  {
    name: 'half-open admits only the permitted probes',
    steps: [
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'open' },
      { t: 1_000, do: 'acquire', expect: 'half-open' },
      { t: 1_000, do: 'acquire', expect: 'half-open' },
      { t: 1_000, do: 'acquire', expect: 'half-open', refused: HALF_OPEN_FULL },
    ],
  },
  {
    name: 'isolate refuses everything until reset',
    steps: [
      { t: 0, do: 'isolate', expect: 'isolated' },
      { t: 1_000_000, do: 'ok', expect: 'isolated', refused: ISOLATED },
      { t: 1_000_001, do: 'reset', expect: 'closed' },
      { t: 1_000_002, do: 'ok', expect: 'closed' },
    ],
  },
  {
    name: 'closing resets the backoff',
    steps: [
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'closed' },
      { t: 0, do: 'fail', expect: 'open' },
      { t: 1_000, do: 'fail', expect: 'open' },
      { t: 3_000, do: 'ok', expect: 'half-open' },
      { t: 3_000, do: 'ok', expect: 'closed' },
      { t: 3_000, do: 'fail', expect: 'closed' },
      { t: 3_000, do: 'fail', expect: 'closed' },
      { t: 3_000, do: 'fail', expect: 'open' },
      { t: 4_000, do: 'acquire', expect: 'half-open' },
    ],
  },
];

describe('BreakerMachine transitions', () => {
  it.each(cases)('$name', ({ steps }) => {
    const machine = new BreakerMachine(new ConsecutiveBreaker({ threshold: 3 }), options);
    for (const [i, step] of steps.entries()) {
      const where = `step ${i} (${step.do} at ${step.t})`;
      if (step.do === 'isolate') machine.isolate();
      else if (step.do === 'reset') machine.reset();
      else {
        const token = machine.acquire(step.t);
        expect(token < 0 ? token : undefined, where).toBe(step.refused);
        if (token >= 0 && step.do !== 'acquire') {
          machine.complete(token, step.do === 'fail', step.do === 'slow', step.t);
        }
      }
      expect(machine.state(step.t), where).toBe(step.expect);
    }
  });

  it('ignores outcomes of calls admitted before the last transition', () => {
    const machine = new BreakerMachine(new ConsecutiveBreaker({ threshold: 1 }), { ...options, probes: 1 });
    const early = machine.acquire(0);
    const failing = machine.acquire(0);
    machine.complete(failing, true, false, 0);
    expect(machine.state(0)).toBe('open');
    const probe = machine.acquire(1_000);
    expect(probe).toBeGreaterThanOrEqual(0);
    // The call admitted while closed succeeds late: it must not count as the probe's success.
    machine.complete(early, false, false, 1_000);
    expect(machine.state(1_000)).toBe('half-open');
    machine.complete(probe, false, false, 1_000);
    expect(machine.state(1_000)).toBe('half-open');
  });

  it('reports every transition with from and to', () => {
    const machine = new BreakerMachine(new ConsecutiveBreaker({ threshold: 1 }), {
      ...options,
      successThreshold: 1,
    });
    const seen: string[] = [];
    machine.onTransition = (from, to) => seen.push(`${from}->${to}`);
    machine.complete(machine.acquire(0), true, false, 0);
    machine.complete(machine.acquire(1_000), false, false, 1_000);
    machine.isolate();
    machine.reset();
    expect(seen).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->closed',
      'closed->isolated',
      'isolated->closed',
    ]);
  });
});
