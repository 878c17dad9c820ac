import { flushMicrotasks, ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@ballast/core';
import { TtlCache, type TtlCacheOptions } from '../src/cache/TtlCache.js';

function setup(options: Partial<TtlCacheOptions> = {}) {
  const clock = new ManualClock(0);
  const cache = new TtlCache<string>({ ttlMs: 1000, jitter: 0, clock, ...options });
  const events: string[] = [];
  cache.onEvent((e: PolicyEvent) => events.push(e.type === 'cache' ? e.result : e.type));
  let version = 0;
  let fail = false;
  const loads: string[] = [];
  const load = (key: string) => {
    loads.push(key);
    if (fail) return Promise.reject(new Error('origin down'));
    return Promise.resolve(`${key}@${++version}`);
  };
  return { clock, cache, events, load, loads, setFail: (f: boolean) => (fail = f) };
}

describe('TtlCache', () => {
  it('serves fresh entries from memory and reloads after expiry', async () => {
    const { cache, clock, load, loads, events } = setup();
    expect(await cache.get('a', load)).toBe('a@1');
    clock.advance(999);
    expect(await cache.get('a', load)).toBe('a@1');
    clock.advance(1);
    expect(await cache.get('a', load)).toBe('a@2');
    expect(loads).toEqual(['a', 'a']);
    expect(events).toEqual(['miss', 'hit', 'miss']);
  });

  it('collapses concurrent misses into one load', async () => {
    const { cache, load, loads, events } = setup();
    const values = await Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)]);
    expect(values).toEqual(['a@1', 'a@1', 'a@1']);
    expect(loads).toEqual(['a']);
    expect(events).toEqual(['miss', 'shared', 'shared']);
  });

  it('jitters expiry: fresh for ttl * (1 - jitter * random)', async () => {
    const draws = [0, 0.5, 1];
    const { cache, clock, load } = setup({ jitter: 0.2, random: () => draws.shift()! });
    await Promise.all([cache.get('a', load), cache.get('b', load), cache.get('c', load)]);
    clock.advance(799);
    expect(['a', 'b', 'c'].map((k) => cache.peek(k) !== undefined)).toEqual([true, true, true]);
    clock.advance(1); // t=800: c (1000 * 0.8) expires
    expect(['a', 'b', 'c'].map((k) => cache.peek(k) !== undefined)).toEqual([true, true, false]);
    clock.advance(100); // t=900: b (1000 * 0.9) expires
    expect(['a', 'b', 'c'].map((k) => cache.peek(k) !== undefined)).toEqual([true, false, false]);
  });

  it('serves stale while revalidating in the background, once per key', async () => {
    const { cache, clock, load, loads, events } = setup({ staleWhileRevalidateMs: 500 });
    await cache.get('a', load);
    clock.advance(1200);
    const stale = [cache.get('a', load), cache.get('a', load)]; // the second finds the refresh in flight
    expect(await Promise.all(stale)).toEqual(['a@1', 'a@1']);
    await flushMicrotasks();
    expect(await cache.get('a', load)).toBe('a@2'); // refreshed
    expect(loads).toEqual(['a', 'a']);
    expect(events).toEqual(['miss', 'stale', 'stale', 'hit']);
    clock.advance(1600); // beyond ttl + swr: a blocking miss
    expect(await cache.get('a', load)).toBe('a@3');
  });

  it('keeps the stale value when a background refresh fails, and reports the failure', async () => {
    const { cache, clock, load, events, setFail } = setup({ staleWhileRevalidateMs: 500 });
    await cache.get('a', load);
    clock.advance(1100);
    setFail(true);
    expect(await cache.get('a', load)).toBe('a@1');
    await flushMicrotasks();
    expect(events).toEqual(['miss', 'stale', 'failure']);
    expect(await cache.get('a', load)).toBe('a@1');
  });

  it('serves stale on error within staleIfErrorMs, then surfaces the error', async () => {
    const { cache, clock, load, setFail, events } = setup({ staleIfErrorMs: 5000 });
    await cache.get('a', load);
    setFail(true);
    clock.advance(3000);
    expect(await cache.get('a', load)).toBe('a@1');
    expect(events.slice(-2)).toEqual(['miss', 'stale']);
    clock.advance(3001);
    await expect(cache.get('a', load)).rejects.toThrow('origin down');
  });

  it('stays within maxEntries, evicting the least recently used', async () => {
    const { cache, load } = setup({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.get(k, load);
    await cache.get('a', load); // a is now the most recent
    await cache.get('d', load); // evicts b
    expect(cache.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((k) => cache.peek(k) !== undefined)).toEqual([true, false, true, true]);
  });

  it.each([
    [{ ttlMs: 0 }, 'Expected `ttlMs` to be a finite number > 0, got `0` (number)'],
    [{ ttlMs: 1, jitter: 2 }, 'Expected `jitter` to be a finite number >= 0 <= 1, got `2` (number)'],
    [{ ttlMs: 1, maxEntries: 0 }, 'Expected `maxEntries` to be an integer >= 1, got `0` (number)'],
    [{}, 'Expected `ttlMs` to be a finite number > 0, got `undefined` (undefined)'],
  ])('rejects bad options %j', (options, message) => {
    expect(() => new TtlCache(options as never)).toThrow(new TypeError(message));
  });
});
