import { ConsecutiveBreaker, bulkhead, circuitBreaker, handleAll, retry, wrap } from 'cockatiel';
import { createMetricsRegistry, observeCockatiel, renderMetrics } from '@ballast/telemetry';

/**
 * A service that keeps its cockatiel 3 policies and gets Ballast's policy metrics, span events, dashboards and
 * alerts: one `observeCockatiel` call. Returns the Prometheus text after the payment provider failed.
 */
export async function cockatielService(): Promise<string> {
  const metrics = createMetricsRegistry({ defaultLabels: { service: 'checkout' } });

  // The team's existing cockatiel code, unchanged.
  const paymentBreaker = circuitBreaker(handleAll, {
    halfOpenAfter: 10_000,
    breaker: new ConsecutiveBreaker(3),
  });
  const paymentRetry = retry(handleAll, { maxAttempts: 2 });
  const inventory = bulkhead(8, 16);
  const payments = wrap(paymentRetry, paymentBreaker);

  // The keys are the `policy` label: the names the dashboards and the breaker alert show.
  observeCockatiel(metrics, {
    'payment-breaker': paymentBreaker,
    'payment-retry': paymentRetry,
    inventory,
  });

  const charge = () => Promise.reject(new Error('payment provider down'));
  await payments.execute(charge).catch(() => undefined); // 3 attempts: the breaker opens on the third
  await payments.execute(charge).catch(() => undefined); // refused by the open breaker, 3 times
  await inventory.execute(() => 'reserved');

  return renderMetrics(metrics, 'prometheus');
}
