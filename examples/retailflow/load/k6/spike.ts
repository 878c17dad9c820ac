// A sudden spike far above capacity: adaptive load shedding must drop sheddable catalog reads first and keep
// critical checkouts flowing; latency of what is admitted stays bounded.
import type { Options } from 'k6/options';
import { browse, checkout, tenantKey } from './common.ts';

export const options: Options = {
  scenarios: {
    spike: {
      executor: 'ramping-arrival-rate',
      startRate: 10,
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: Number(__ENV.MAX_VUS ?? 400),
      stages: [
        { duration: '10s', target: 10 },
        { duration: '5s', target: Number(__ENV.PEAK ?? 500) },
        { duration: '30s', target: Number(__ENV.PEAK ?? 500) },
        { duration: '10s', target: 10 },
        { duration: '15s', target: 10 },
      ],
    },
  },
  thresholds: {
    'http_req_duration{name:checkout}': ['p(99)<2000'],
  },
};

export default function (): void {
  const key = tenantKey();
  const ids = browse(key);
  // One in five iterations buys: checkouts are classed critical and should survive the spike.
  const id = ids[0];
  if (id !== undefined && Math.random() < 0.2) checkout(key, id);
}
