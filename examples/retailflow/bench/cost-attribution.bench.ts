/**
 * What cost attribution costs a request: a handler shaped like a catalog read (ten awaited steps, a 2 KB JSON
 * answer) run through the attribution middleware, against the same handler without it, in the same process.
 * Variants: attribution off (baseline), on with every request measured, on with 10% of requests sampled for CPU
 * (the hook still runs for every segment: sampling saves the per-request bookkeeping, not the hook). The hook is
 * process-wide, so each variant runs in its own pass with only its own attribution enabled.
 *
 * Run: `npx tsx --conditions=@ballast/source examples/retailflow/bench/cost-attribution.bench.ts`
 */
import { EventEmitter } from 'node:events';
import { ManualClock } from '@ballast/core';
import { measure, report, row, type BenchResult } from '@ballast/testkit';
import { CostAttribution } from '../src/cost/attribution.js';
import { CostMeter } from '../src/cost/meter.js';

const PAYLOAD = {
  items: Array.from({ length: 20 }, (_, i) => ({
    id: `sku-${i}`,
    name: `Product ${i}`,
    priceCents: 1000 + i,
    stock: 5,
  })),
};

async function handler(): Promise<string> {
  let text = '';
  for (let step = 0; step < 10; step++) await Promise.resolve(step);
  text = JSON.stringify(PAYLOAD);
  return text;
}

function request(run: (req: never, res: never, next: () => void) => void): Promise<void> {
  const req = Object.assign(new EventEmitter(), { method: 'GET', headers: {} });
  const res = Object.assign(new EventEmitter(), { getHeader: () => '2048' });
  return new Promise((resolve) => {
    run(req as never, res as never, () => {
      void handler().then(() => {
        res.emit('close');
        resolve();
      });
    });
  });
}

async function pass(name: string, sampleRate: number | undefined): Promise<BenchResult> {
  const attribution =
    sampleRate === undefined
      ? undefined
      : new CostAttribution({
          meter: new CostMeter({ clock: new ManualClock(0) }),
          tenantOf: () => 'acme',
          sampleRate,
        });
  const run = attribution ? attribution.middleware : (_req: never, _res: never, next: () => void) => next();
  try {
    const [result] = await measure([{ name, fn: () => request(run) }], {
      timeMs: 1500,
      warmupMs: 300,
    });
    return result!;
  } finally {
    attribution?.close();
  }
}

export async function run() {
  const results: BenchResult[] = [];
  // Interleaved twice, the median pass of each kept by `measure` itself per pass; the second round's figures win.
  for (let round = 0; round < 2; round++) {
    results.length = 0;
    results.push(await pass('attribution off (baseline)', undefined));
    results.push(await pass('attribution on, every request', 1));
    results.push(await pass('attribution on, 10% sampled', 0.1));
  }
  const base = row(results, 'attribution off (baseline)');
  const ratios = {
    'on / off (throughput)': row(results, 'attribution on, every request').opsPerSec / base.opsPerSec,
    'sampled / off (throughput)': row(results, 'attribution on, 10% sampled').opsPerSec / base.opsPerSec,
    'added µs per request (on)':
      (row(results, 'attribution on, every request').medianNs - base.medianNs) / 1000,
  };
  return { results, ratios };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { results, ratios } = await run();
  report('retailflow cost attribution overhead (in-process handler, no I/O)', results, ratios);
}
