// Browse-then-buy journeys: exercises idempotency, the inventory bulkhead, payment breaker/retry and the
// checkout availability SLO.
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { browse, checkout, tenantKey } from './common.ts';

export const options: Options = {
  scenarios: {
    checkout: {
      executor: 'ramping-vus',
      startVUs: 1,
      stages: [
        { duration: '20s', target: Number(__ENV.VUS ?? 10) },
        { duration: __ENV.DURATION ?? '1m', target: Number(__ENV.VUS ?? 10) },
        { duration: '10s', target: 0 },
      ],
    },
  },
  thresholds: {
    // Mirrors the checkout-availability SLO (99.5%): 5xx other than a deliberate 503 shed is a failure.
    checks: ['rate>0.995'],
    'http_req_duration{name:checkout}': ['p(95)<1500'],
  },
};

export default function (): void {
  const key = tenantKey();
  const ids = browse(key);
  const id = ids[Math.floor(Math.random() * ids.length)];
  if (id !== undefined) checkout(key, id);
  sleep(1);
}
