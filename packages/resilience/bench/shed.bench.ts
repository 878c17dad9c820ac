/**
 * The cost of one refusal, the path an overloaded service takes thousands of times a second: a `ConcurrencyLimiter`
 * whose admission signal (a saturated `SaturationSignal`) sheds every sheddable call, against the same rejected
 * promise carrying an ordinary `Error` (which captures a stack trace, as `LoadShedError` once did). 100 refusals per
 * iteration, three alternating rounds; the ratio uses the median time per refusal. Also the decision of an
 * `EventLoopPressure` (a scripted, saturated loop) once armed, against one still in its `warmupDecisions`: the
 * warm-up adds a counter to each decision. And the decision of a `SaturationSignal` judging by the value now against
 * one judging by its average over time (`smoothingMs`: a clock read and an exponential per decision), on a queue that
 * is occupied one call in five.
 */
import { ConcurrencyLimiter, EventLoopPressure, SaturationSignal } from '@ballast/resilience';
import type { BenchResult } from '@ballast/testkit';
import { row } from '@ballast/testkit';
import { measureInRounds } from './limiter-rounds.js';

const BATCH = 100;

export async function run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }> {
  const limiter = new ConcurrencyLimiter({
    name: 'bench-ingress',
    admission: new SaturationSignal({ saturation: () => 1 }),
  });
  const withStack = (priority: string) =>
    Promise.reject(new Error(`${priority} call shed (pressure): the concurrency limit is 20`));
  const saturated = { utilization: 1, delayMs: 900 };
  const armed = new EventLoopPressure({ sampler: () => saturated });
  const warming = new EventLoopPressure({
    sampler: () => saturated,
    warmupDecisions: Number.MAX_SAFE_INTEGER,
  });
  for (let i = 0; i < 20; i++) {
    armed.sample();
    warming.sample();
  }
  let queued = 0;
  const burst = () => (++queued % 5 === 0 ? 1 : 0);
  const instant = new SaturationSignal({ saturation: burst, thresholds: { sheddable: 0.5 } });
  const averaged = new SaturationSignal({
    saturation: burst,
    thresholds: { sheddable: 0.5 },
    smoothingMs: 250,
  });
  let admitted = 0;
  let refused = 0;
  const count = () => {
    refused++;
  };
  const results = await measureInRounds(
    [
      {
        name: 'ballast refusal (LoadShedError, no stack)',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await limiter.acquire('sheddable').then(undefined, count);
        },
      },
      {
        name: 'rejection with a stack-capturing Error',
        batch: BATCH,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) await withStack('sheddable').then(undefined, count);
        },
      },
      {
        name: 'EventLoopPressure decision, armed (saturated: sheds)',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) if (armed.admits('sheddable')) admitted++;
        },
      },
      {
        name: 'EventLoopPressure decision, warming up (admits)',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) if (warming.admits('sheddable')) admitted++;
        },
      },
      {
        name: 'SaturationSignal decision, value now',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) if (instant.admits('sheddable')) admitted++;
        },
      },
      {
        name: 'SaturationSignal decision, averaged over 250 ms',
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) if (averaged.admits('sheddable')) admitted++;
        },
      },
    ],
    3,
    250,
  );
  armed.close();
  warming.close();
  if (refused === 0) throw new Error('shed bench: nothing was refused');
  if (admitted === 0) throw new Error('shed bench: the warming signal admitted nothing');
  return {
    results,
    ratios: {
      shed_refusal_vs_stack_error:
        row(results, 'rejection with a stack-capturing Error').medianNs /
        row(results, 'ballast refusal (LoadShedError, no stack)').medianNs,
      loop_decision_warming_vs_armed:
        row(results, 'EventLoopPressure decision, warming up (admits)').medianNs /
        row(results, 'EventLoopPressure decision, armed (saturated: sheds)').medianNs,
      saturation_decision_averaged_vs_now:
        row(results, 'SaturationSignal decision, averaged over 250 ms').medianNs /
        row(results, 'SaturationSignal decision, value now').medianNs,
    },
  };
}
