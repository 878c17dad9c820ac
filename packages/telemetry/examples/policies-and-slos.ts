import { ManualClock } from '@ballast/core';
import { BulkheadPolicy, CircuitBreakerPolicy, ConsecutiveBreaker } from '@ballast/resilience';
import { SloEngine, defineSlo } from '@ballast/slo';
import {
  createMetricsRegistry,
  observeBulkhead,
  observePgPool,
  observePolicies,
  observeSlos,
  renderMetrics,
  type PgPoolLike,
} from '@ballast/telemetry';

/** Policy, bulkhead, pool and SLO metrics on one registry; returns the Prometheus text after some traffic. */
export async function policiesAndSlos(pool: PgPoolLike): Promise<string> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const metrics = createMetricsRegistry();

  const breaker = new CircuitBreakerPolicy({
    name: 'payments',
    breaker: new ConsecutiveBreaker({ threshold: 2 }),
    clock,
  });
  const bulkhead = new BulkheadPolicy({ name: 'inventory', limit: 2, clock });
  observePolicies(metrics, [breaker]); // calls, durations, state, transitions, rejections (+ span events)
  observeBulkhead(metrics, bulkhead); // in-flight, queued, limit, utilization, rejections
  observePgPool(metrics, pool, { name: 'orders' }); // total / idle / active, waiting, errors

  const engine = new SloEngine({
    clock,
    evaluateEveryMs: 0,
    slos: [
      defineSlo({
        service: 'checkout',
        name: 'checkout-availability',
        objective: 0.99,
        window: '30d',
        indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
      }),
    ],
  });
  observeSlos(metrics, engine); // budget, burn rates, SLIs, firing alerts: read at scrape time

  const fail = () => Promise.reject(new Error('payment provider down'));
  for (let i = 0; i < 3; i++) await breaker.execute(fail).catch(() => undefined); // opens, then rejects
  await bulkhead.execute(() => Promise.resolve('reserved'));
  for (let i = 0; i < 100; i++) engine.recordEvent('checkout-availability', i % 10 !== 0);

  return renderMetrics(metrics, 'prometheus');
}
