import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { EventLoopPressure, type EventLoopSample } from '@ballast/resilience';
import { checkoutPressureSignal } from '../src/wiring/policies.js';

// The front door sheds reads for checkouts' sake only on sustained overload: a full inventory queue while the event
// loop has been saturated for about 400 ms. At the service's knee the queue fills in bursts and the loop is busy for a
// sample here and there; a door that shed reads then refused 15-26% of them in the overload proof's 1x step.

const SATURATED: EventLoopSample = { utilization: 1, delayMs: 50 };
const IDLE: EventLoopSample = { utilization: 0.3, delayMs: 2 };

let loop: EventLoopPressure | undefined;
afterEach(() => {
  loop?.close();
  loop = undefined;
});

function setup(maxQueued = 2) {
  let next = IDLE;
  loop = new EventLoopPressure({ clock: new ManualClock(0), sampler: () => next });
  const bulkhead = { queued: 0, maxQueued };
  const signal = checkoutPressureSignal(bulkhead, loop);
  const samples = (sample: EventLoopSample, count: number) => {
    next = sample;
    for (let i = 0; i < count; i++) loop!.sample();
  };
  return { bulkhead, signal, samples, loop };
}

describe('checkoutPressureSignal', () => {
  it('serves reads while one checkout waits of two, however busy the loop', () => {
    const { bulkhead, signal, samples } = setup();
    samples(SATURATED, 30); // pressure at its top (3)
    bulkhead.queued = 1;
    expect(signal.admits('sheddable')).toBe(true);
    expect(signal.admits('default')).toBe(true);
    expect(signal.admits('critical')).toBe(true);
  });

  it('serves reads with the queue full while the loop was saturated for fewer than four samples', () => {
    const { bulkhead, signal, samples, loop } = setup();
    bulkhead.queued = 2;
    samples(SATURATED, 3);
    expect(loop.pressure).toBe(0.75);
    expect(signal.admits('sheddable')).toBe(true);
    expect(signal.admits('default')).toBe(true);
    // The queue is full: checkouts are refused at the door whatever the loop says.
    expect(signal.admits('critical')).toBe(false);
  });

  it('sheds reads and other calls with the queue full once the loop has stayed saturated, and serves them again as it calms', () => {
    const { bulkhead, signal, samples, loop } = setup();
    bulkhead.queued = 2;
    samples(SATURATED, 4);
    expect(loop.pressure).toBe(1);
    expect(signal.admits('sheddable')).toBe(false);
    expect(signal.admits('default')).toBe(false);
    // One calm sample brings the pressure under the bar.
    samples(IDLE, 1);
    expect(signal.admits('sheddable')).toBe(true);
    // The queue drains: reads are served even while the loop is saturated.
    samples(SATURATED, 10);
    expect(signal.admits('sheddable')).toBe(false);
    bulkhead.queued = 1;
    expect(signal.admits('sheddable')).toBe(true);
  });

  it('without an event-loop signal, sheds reads on a full queue alone; with no queue, never', () => {
    const bulkhead = { queued: 2, maxQueued: 2 };
    const signal = checkoutPressureSignal(bulkhead, undefined);
    expect(signal.admits('sheddable')).toBe(false);
    bulkhead.queued = 1;
    expect(signal.admits('sheddable')).toBe(true);
    const none = checkoutPressureSignal({ queued: 0, maxQueued: 0 }, undefined);
    expect(none.admits('sheddable')).toBe(true);
    expect(none.admits('critical')).toBe(true);
  });
});
