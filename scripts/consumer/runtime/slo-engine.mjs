// An SLO engine evaluating every second and stamping events from a cached clock: background work only, so the
// process exits once the script's own work is done.
import { SloEngine, defineSlo } from '@ballast/slo';

const slo = defineSlo({
  service: 'checkout',
  name: 'availability',
  objective: 0.99,
  window: '30d',
  indicator: { bad: 'errors_total', total: 'requests_total' },
});
const engine = new SloEngine({ slos: [slo], evaluateEveryMs: 1_000, timestampResolutionMs: 100 });
engine.record('availability', 99, 1);
console.log(`slo: engine tracking ${engine.slos.length} SLO`);
