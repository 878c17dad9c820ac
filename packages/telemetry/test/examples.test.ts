import { EventEmitter } from 'node:events';
import express from 'express';
import { CircuitBreakerPolicy, ConsecutiveBreaker } from '@ballast/resilience';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cockatielService } from '../examples/cockatiel.js';
import { createApp } from '../examples/express-app.js';
import { createLoggedApp } from '../examples/request-logs.js';
import { policiesAndSlos } from '../examples/policies-and-slos.js';
import { parseExposition } from './support/exposition-parser.js';
import { listen, sampleValue, scrape, send } from './support/http.js';

describe('examples/express-app', () => {
  let inventory: Awaited<ReturnType<typeof listen>>;
  let app: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const down = express();
    down.get('/stock/:id', (_req, res) => {
      res.json({ ok: true });
    });
    inventory = await listen(down);
    app = await listen(createApp(inventory.url));
  });
  afterAll(async () => {
    await app.close();
    await inventory.close();
  });

  it('serves RED, outbound and runtime metrics with the full route template', async () => {
    expect((await send(`${app.url}/api/users/u1/orders/o9`, 'GET', { 'x-tenant-id': 'acme' })).status).toBe(
      200,
    );
    const { families } = await scrape(`${app.url}/metrics`);
    const h = families.get('http_server_request_duration_seconds');
    expect(
      sampleValue(h, 'http_server_request_duration_seconds_count', {
        http_route: '/api/users/:userId/orders/:orderId',
        tenant: 'acme',
        service: 'checkout',
      }),
    ).toBe(1);
    const c = families.get('http_client_request_duration_seconds');
    expect(
      sampleValue(c, 'http_client_request_duration_seconds_count', { server_address: '127.0.0.1' }),
    ).toBe(1);
    expect(families.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(families.has('ballast_nodejs_eventloop_utilization_ratio')).toBe(true);
  });
});

describe('examples/policies-and-slos with real Ballast policies and the SLO engine', () => {
  it('publishes breaker, bulkhead, pool and SLO metrics', async () => {
    const pool = Object.assign(new EventEmitter(), {
      totalCount: 4,
      idleCount: 1,
      waitingCount: 2,
      options: { max: 8 },
    });
    const { families } = parseExposition(await policiesAndSlos(pool));
    const v = (name: string, labels: Record<string, string>) => sampleValue(families.get(name), name, labels);
    expect(v('ballast_policy_calls_total', { policy: 'payments', outcome: 'failure' })).toBe(2);
    expect(v('ballast_policy_calls_total', { policy: 'payments', outcome: 'rejected' })).toBe(1);
    expect(v('ballast_circuit_breaker_state', { policy: 'payments', state: 'open' })).toBe(1);
    expect(
      v('ballast_circuit_breaker_transitions_total', { policy: 'payments', from: 'closed', to: 'open' }),
    ).toBe(1);
    expect(v('ballast_policy_rejections_total', { policy: 'payments', reason: 'circuit-open' })).toBe(1);
    expect(v('ballast_policy_calls_total', { policy: 'inventory', outcome: 'success' })).toBe(1);
    expect(v('ballast_bulkhead_limit', { policy: 'inventory' })).toBe(2);
    expect(v('ballast_bulkhead_in_flight', { policy: 'inventory' })).toBe(0);
    expect(v('ballast_pg_pool_connections', { pool: 'orders', state: 'active' })).toBe(3);
    expect(v('ballast_pg_pool_waiting_clients', { pool: 'orders' })).toBe(2);
    const labels = { slo: 'checkout-availability', service: 'checkout' };
    expect(v('ballast_slo_objective_ratio', labels)).toBe(0.99);
    expect(v('ballast_slo_sli_ratio', { ...labels, window: 'slo' })).toBeCloseTo(0.9);
    const remaining = v('ballast_slo_error_budget_remaining_ratio', labels)!;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(1);
    // 10% bad events against a 1% budget burn it ten times too fast in every window that saw them.
    const burn = families.get('ballast_slo_burn_rate')!.samples.map((s) => s.value);
    expect(Math.max(...burn)).toBeCloseTo(10);
    expect(v('ballast_slo_alert_firing', { ...labels, severity: 'page' })).toBeDefined();
  });
});

describe('examples/cockatiel with real cockatiel 3 policies', () => {
  it('publishes the breaker, retry and bulkhead in the Ballast policy series', async () => {
    const { families } = parseExposition(await cockatielService());
    const v = (name: string, labels: Record<string, string>) => sampleValue(families.get(name), name, labels);
    const breaker = { service: 'checkout', policy: 'payment-breaker' };
    expect(v('ballast_policy_calls_total', { ...breaker, outcome: 'failure' })).toBe(3);
    expect(v('ballast_policy_calls_total', { ...breaker, outcome: 'rejected' })).toBe(3);
    expect(v('ballast_policy_rejections_total', { ...breaker, reason: 'circuit-open' })).toBe(3);
    expect(v('ballast_circuit_breaker_state', { ...breaker, state: 'open' })).toBe(1);
    expect(v('ballast_circuit_breaker_transitions_total', { ...breaker, from: 'closed', to: 'open' })).toBe(
      1,
    );
    expect(v('ballast_retry_attempts_total', { policy: 'payment-retry' })).toBe(4);
    expect(v('ballast_policy_calls_total', { policy: 'payment-retry', outcome: 'failure' })).toBe(2);
    expect(v('ballast_bulkhead_limit', { policy: 'inventory' })).toBe(8);
    expect(v('ballast_bulkhead_in_flight', { policy: 'inventory' })).toBe(0);
  });
});

describe('examples/request-logs', () => {
  it('logs the 500 at error and the 400 at info with route and tenant; rate limits the warnings', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    };
    const breaker = new CircuitBreakerPolicy({
      name: 'payments',
      breaker: new ConsecutiveBreaker({ threshold: 1 }),
    });
    const app = await listen(createLoggedApp(destination, breaker));
    try {
      for (const id of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'o7']) {
        await send(`${app.url}/orders/${id}`, 'GET', { 'x-tenant': 'acme' });
      }
      await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    } finally {
      await app.close();
    }
    const levels = lines.map((l) => [l.level, l.msg, l.route ?? null]);
    expect(levels.filter(([, msg]) => msg === 'order id in the wrong format')).toHaveLength(5);
    expect(levels.filter(([level, , route]) => level === 30 && route === '/orders/:id')).toHaveLength(6);
    expect(lines.find((l) => l.level === 50)).toMatchObject({ route: '/orders/:id', tenant: 'acme' });
    expect(lines.at(-1)).toMatchObject({ level: 40, event: 'ballast.circuit_state_change', to: 'open' });
  });
});

describe('README', () => {
  it('shows the example files exactly as they are', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const file of ['express-app.ts', 'policies-and-slos.ts', 'cockatiel.ts', 'request-logs.ts']) {
      const source = await readFile(new URL(`../examples/${file}`, import.meta.url), 'utf8');
      expect(readme).toContain(`\`\`\`ts\n${source.trimEnd()}\n\`\`\``);
    }
  });
});
