import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { EventLoopBurn } from '../src/wiring/eventloop-chaos.js';

describe('the event-loop chaos switch', () => {
  it('holds the loop latencyMs once a second while on, at most 950 ms, and stops when switched off', () => {
    const clock = new ManualClock();
    const held: number[] = [];
    const burn = new EventLoopBurn(clock, (ms) => held.push(ms));
    burn.set({ enabled: true, latencyMs: 600, errorRate: 0 });
    expect(burn.fault).toEqual({ enabled: true, latencyMs: 600, errorRate: 0 });
    clock.advance(999);
    expect(held).toEqual([]);
    clock.advance(1);
    clock.advance(1000);
    expect(held).toEqual([600, 600]);

    burn.set({ enabled: true, latencyMs: 5000, errorRate: 0 });
    clock.advance(1000);
    expect(held.at(-1)).toBe(950);

    burn.set({ enabled: false, latencyMs: 5000, errorRate: 0 });
    clock.advance(5000);
    expect(held).toHaveLength(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does nothing when on with no latency, and never holds the process open', () => {
    const clock = new ManualClock();
    const held: number[] = [];
    const burn = new EventLoopBurn(clock, (ms) => held.push(ms));
    burn.set({ enabled: true, latencyMs: 0, errorRate: 1 });
    clock.advance(3000);
    expect(held).toEqual([]);
    burn.set({ enabled: true, latencyMs: 10, errorRate: 0 });
    expect(clock.pendingRefTimers).toBe(0);
    expect(clock.pendingTimers).toBe(1);
    burn.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
