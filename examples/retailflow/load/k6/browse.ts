// Catalog browsing at a steady arrival rate: exercises the cache, single-flight and the catalog latency SLO.
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { browse, tenantKey } from './common.ts';

export const options: Options = {
  scenarios: {
    browse: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE ?? 50),
      timeUnit: '1s',
      duration: __ENV.DURATION ?? '1m',
      preAllocatedVUs: 20,
      maxVUs: 100,
    },
  },
  thresholds: {
    // Mirrors the catalog-latency SLO (99% within 300 ms).
    'http_req_duration{name:products}': ['p(99)<300'],
    'http_req_failed{name:products}': ['rate<0.01'],
  },
};

export default function (): void {
  browse(tenantKey());
  sleep(0.1);
}
