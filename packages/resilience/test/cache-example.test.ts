import { flushMicrotasks, ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createPriceLookup } from '../examples/caching.js';

describe('examples/caching.ts', () => {
  it('collapses concurrent lookups, serves stale while refreshing and through an outage', async () => {
    const clock = new ManualClock(0);
    const calls: string[] = [];
    let price = 100;
    let down = false;
    const lookup = createPriceLookup((sku) => {
      calls.push(sku);
      return down ? Promise.reject(new Error('pricing down')) : Promise.resolve(price++);
    }, clock);

    expect(await Promise.all([lookup('sku-1'), lookup('sku-1'), lookup('sku-1')])).toEqual([100, 100, 100]);
    expect(calls).toEqual(['sku-1']);

    clock.advance(40_000); // expired (ttl 27-30 s), within stale-while-revalidate
    expect(await lookup('sku-1')).toBe(100);
    await flushMicrotasks();
    expect(await lookup('sku-1')).toBe(101);

    down = true;
    clock.advance(200_000); // beyond ttl + swr, within stale-if-error
    expect(await lookup('sku-1')).toBe(101);
    expect(calls).toHaveLength(3);
  });
});
