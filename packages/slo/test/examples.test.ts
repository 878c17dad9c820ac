import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@ballast/core';
import { describe, expect, it, vi } from 'vitest';
import { canShip } from '../examples/budget-gate.js';
import { judgeCheckoutCanary } from '../examples/canary.js';
import { checkoutSlos } from '../examples/define-slo.js';
import { startSloEngine } from '../examples/engine.js';
import { startDurableEngine } from '../examples/persist-engine.js';
// The examples import the package by name, as users do; this test hands them an engine of the same type.
import { SloEngine } from '@ballast/slo';
import { loadSlos } from '../src/openslo/load.js';

const examples = join(import.meta.dirname, '..', 'examples');
const MIN = 60_000;

describe('examples', () => {
  it('define-slo.ts builds the same SLOs as examples/slos/checkout.yaml', async () => {
    const fromYaml = await loadSlos(['slos/checkout.yaml'], examples);
    expect(fromYaml.map(({ source: _source, ...slo }) => slo)).toEqual(checkoutSlos);
  });

  it('engine.ts records requests and logs a page when checkout starts failing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const { engine, alerts, recordRequest } = await startSloEngine(examples, clock);
    for (let m = 0; m < 60; m++) {
      for (let i = 0; i < 100; i++) recordRequest(200, 0.05);
      clock.advance(MIN);
    }
    for (let m = 0; m < 5; m++) {
      for (let i = 0; i < 100; i++) recordRequest(i < 50 ? 503 : 200, 0.05);
      clock.advance(MIN);
    }
    expect(alerts.map((a) => [a.slo, a.alert, a.firing])).toContainEqual([
      'checkout-availability',
      'fast-burn',
      true,
    ]);
    expect(log).toHaveBeenCalledWith('checkout-availability fast-burn (page) FIRING');
    expect(engine.status('checkout-latency').sli).toBe(1);
    engine.close();
    log.mockRestore();
  });

  it('budget-gate.ts blocks risky work first, then everything', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const engine = new SloEngine({ slos: checkoutSlos, clock, evaluateEveryMs: 0 });
    clock.advance(30 * 24 * 60 * MIN); // a whole period of history, so the budget is sized by what was seen
    const gates = () => [
      canShip(engine, 'checkout-availability', 'risky'),
      canShip(engine, 'checkout-availability', 'routine'),
    ];
    engine.record('checkout-availability', 100_000, 0); // a budget of 100 failed requests
    expect(gates()).toEqual([true, true]);
    engine.record('checkout-availability', 0, 80); // 20% left: warning
    expect(gates()).toEqual([false, true]);
    engine.record('checkout-availability', 0, 30); // overspent: exhausted
    expect(gates()).toEqual([false, false]);
  });
});

describe('persist-engine.ts', () => {
  it('a restarted engine picks up the budget where the last one left off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-slo-state-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const path = join(dir, 'slo-state.json');
      const clock = new ManualClock(Date.UTC(2026, 0, 5));
      const first = await startDurableEngine(checkoutSlos, path, clock);
      expect(log).toHaveBeenLastCalledWith('SLO engine: no snapshot yet: counting from now');
      first.engine.record('checkout-availability', 990, 10);
      clock.advance(MIN);
      await first.close();
      const second = await startDurableEngine(checkoutSlos, path, clock);
      expect(log).toHaveBeenLastCalledWith(
        `SLO engine: restored 2 SLOs from a snapshot taken at ${new Date(clock.now()).toISOString()}`,
      );
      expect(second.engine.status('checkout-availability').errorBudget).toEqual(
        first.engine.status('checkout-availability').errorBudget,
      );
      await second.close();
    } finally {
      log.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('README', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n\n?```\w+\n([\s\S]*?)```/g)];

  it('shows examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });

  it.each(blocks.map((m) => [m[1]!, m[2]!]))('shows %s exactly as the file is', (file, code) => {
    expect(code.trim()).toBe(readFileSync(join(import.meta.dirname, '..', file), 'utf8').trim());
  });

  it('canary.ts promotes a healthy canary and rolls back a failing or slow one', () => {
    const healthy = [30, 31, 29, 32, 30, 31, 30, 33];
    expect(judgeCheckoutCanary(1, healthy).verdict).toBe('pass');
    expect(judgeCheckoutCanary(30, healthy).verdict).toBe('fail');
    const slow = judgeCheckoutCanary(
      1,
      healthy.map((v) => v + 200),
    );
    expect(slow.verdict).toBe('fail');
    expect(slow.reasons[0]).toMatch(/checkout p50 ms: canary higher than baseline/);
  });
});
