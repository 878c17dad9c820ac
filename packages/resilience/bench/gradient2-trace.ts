/**
 * Traces `Gradient2Limit` inside the limits benchmark's simulated service (one seed): every 100 ms of simulated time,
 * the limit, calls running, the last sample's RTT (`shortRtt`), the long-term RTT and the gradient the algorithm
 * used for that sample (0.5 for a drop), and how many samples were timeouts. Run: `npx tsx bench/gradient2-trace.ts [load] [maxMs]`.
 */
import { Gradient2Limit, type LimitSample } from '@ballast/resilience';
import { simulate } from './limits.bench.js';

const load = Number(process.argv[2] ?? 1);
const untilMs = Number(process.argv[3] ?? 3000);
const inner = new Gradient2Limit({ initialLimit: 20, maxLimit: 1000 });
let last = { rtt: 0, gradient: Number.NaN, samples: 0, drops: 0, frozen: 0 };
const algorithm = {
  get limit() {
    return inner.limit;
  },
  update(sample: LimitSample): number {
    const before = inner.limit;
    const out = inner.update(sample);
    const gradient = sample.dropped
      ? 0.5
      : Math.max(0.5, Math.min(1, (1.5 * inner.longRttMs) / sample.rttMs));
    last = {
      rtt: sample.rttMs,
      gradient,
      samples: last.samples + 1,
      drops: last.drops + (sample.dropped ? 1 : 0),
      frozen: last.frozen + (sample.inFlight < before / 2 ? 1 : 0),
    };
    return out;
  },
};
console.log('t ms    limit  running  shortRtt  longRtt  gradient  samples  drops  app-limited');
simulate('gradient2', load, 20261207, {
  algorithm,
  onTick(now, running) {
    if (now % 100 !== 0 || now > untilMs) return;
    console.log(
      `${String(now).padStart(5)}  ${String(inner.limit).padStart(6)}  ${String(running).padStart(7)}  ` +
        `${last.rtt.toFixed(0).padStart(8)}  ${inner.longRttMs.toFixed(1).padStart(7)}  ` +
        `${last.gradient.toFixed(3).padStart(8)}  ${String(last.samples).padStart(7)}  ${String(last.drops).padStart(5)}` +
        `  ${String(last.frozen).padStart(11)}`,
    );
    last = { ...last, samples: 0, drops: 0, frozen: 0 };
  },
});
