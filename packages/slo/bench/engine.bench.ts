/**
 * SLO engine benchmarks: `record` throughput (with the baseline of a bare typed-array increment and a bare
 * clock read, measured in the same run), `statusAll` for 1,000 SLOs, and memory per SLO for a 30-day window at
 * one-minute resolution (heap and array buffers after GC; run with --expose-gc).
 */
import { ManualClock, systemClock } from '@ballast/core';
import { measure, report, row } from '@ballast/testkit';
import { defineSlo } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';
import type { Slo } from '../src/model.js';

const BATCH = 10_000;
const gc = (globalThis as { gc?: () => void }).gc;

function slo(name: string, window = '30d'): Slo {
  return defineSlo({
    service: 'bench',
    name,
    objective: 0.999,
    window,
    indicator: { bad: 'errors_total', total: 'requests_total' },
  });
}

// Record: one SLO, the real clock and a manual one (the engine's own cost without the clock read).
const live = new SloEngine({ slos: [slo('checkout')], evaluateEveryMs: 0 });
const coarse = new SloEngine({ slos: [slo('checkout')], evaluateEveryMs: 0, timestampResolutionMs: 1000 });
const manualClock = new ManualClock(Date.UTC(2026, 0, 1));
const manual = new SloEngine({ slos: [slo('checkout')], clock: manualClock, evaluateEveryMs: 0 });
const bare = new Float64Array(43_203);
let sink = 0;

// Status: 1,000 SLOs with traffic in every window. The cost of a status does not depend on the bucket count, so
// these use one-hour buckets to keep the benchmark's own memory small (1,000 × 11 KB instead of 1,000 × 690 KB).
const statusClock = new ManualClock(Date.UTC(2026, 0, 1));
const many = new SloEngine({
  slos: Array.from({ length: 1000 }, (_, i) => slo(`slo-${i}`)),
  clock: statusClock,
  resolutionMs: 3_600_000,
  evaluateEveryMs: 0,
});
for (let h = 0; h < 24 * 4; h++) {
  for (let i = 0; i < 1000; i++) many.record(`slo-${i}`, 1000, i % 7);
  statusClock.advance(3_600_000);
}

const results = await measure(
  [
    {
      name: 'baseline: Float64Array increment',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) bare[i & 1023]! += 1;
      },
    },
    {
      name: 'baseline: systemClock.now()',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) sink += systemClock.now();
      },
    },
    {
      name: 'recordEvent (ManualClock)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) manual.recordEvent('checkout', (i & 63) !== 0);
      },
    },
    {
      name: 'recordEvent (systemClock)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) live.recordEvent('checkout', (i & 63) !== 0);
      },
    },
    {
      name: 'recordEvent (systemClock, 1 s timestamps)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) coarse.recordEvent('checkout', (i & 63) !== 0);
      },
    },
    {
      name: 'record(good, bad) (systemClock)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) live.record('checkout', 1, 0);
      },
    },
    {
      name: 'statusAll, 1,000 SLOs',
      batch: 1,
      fn: () => {
        statusClock.advance(1000);
        sink += many.statusAll().length;
      },
    },
  ],
  { timeMs: 700, warmupMs: 200 },
);

// Memory per SLO: 30-day window, one-minute buckets, measured over 50 SLOs after GC.
function usedBytes(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
const before = usedBytes();
const kept = new SloEngine({
  slos: Array.from({ length: 50 }, (_, i) => slo(`mem-${i}`)),
  evaluateEveryMs: 0,
});
const after = usedBytes();
const bytesPerSlo = (after - before) / 50;
const ringBytes = kept.memoryBytes('mem-0');
if (sink === -1) console.log(sink);

const recordRate = row(results, 'recordEvent (systemClock)').opsPerSec;
console.log(
  `\nmemory per SLO (30d, 1-minute buckets): ${(bytesPerSlo / 1024).toFixed(1)} KiB measured after GC` +
    ` (${(ringBytes / 1024).toFixed(1)} KiB of buckets)${gc ? '' : ' — run with --expose-gc for a reliable figure'}`,
);
report(
  'slo-engine',
  results,
  {
    'recordEvent (ManualClock) / Float64Array increment':
      row(results, 'recordEvent (ManualClock)').opsPerSec /
      row(results, 'baseline: Float64Array increment').opsPerSec,
    'recordEvent (systemClock) / systemClock.now()':
      recordRate / row(results, 'baseline: systemClock.now()').opsPerSec,
    'recordEvent 1 s timestamps / exact':
      row(results, 'recordEvent (systemClock, 1 s timestamps)').opsPerSec / recordRate,
  },
  {
    memoryPerSloBytes: Math.round(bytesPerSlo),
    ringBytesPerSlo: ringBytes,
    statusAll1000SlosMs: 1000 / row(results, 'statusAll, 1,000 SLOs').opsPerSec,
    goals: { recordPerSec: 20_000_000, memoryPerSloBytes: 1_048_576 },
  },
);
