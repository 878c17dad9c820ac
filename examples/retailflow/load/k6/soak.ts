// A long, moderate, mixed load: watches for leaks (memory, connections, outbox backlog) and slow SLO burn.
import { sleep } from 'k6';
import type { Options } from 'k6/options';
import { browse, checkout, tenantKey } from './common.ts';

export const options: Options = {
  scenarios: {
    soak: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS ?? 20),
      duration: __ENV.DURATION ?? '2h',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{name:products}': ['p(99)<300'],
    'http_req_duration{name:checkout}': ['p(99)<1500'],
  },
};

export default function (): void {
  const key = tenantKey();
  const ids = browse(key);
  const id = ids[Math.floor(Math.random() * ids.length)];
  if (id !== undefined && Math.random() < 0.3) checkout(key, id);
  sleep(1 + Math.random());
}
