import { describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@ballast/core';
import { SingleFlight } from '../src/cache/SingleFlight.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs concurrent calls with the same key once and shares the result', async () => {
    const flights = new SingleFlight<number>({ name: 'products' });
    const events: PolicyEvent[] = [];
    flights.onEvent((e) => events.push(e));
    const gate = deferred<number>();
    let runs = 0;
    const load = () => {
      runs++;
      return gate.promise;
    };
    const calls = [
      flights.run('a', load),
      flights.run('a', load),
      flights.run('a', load),
      flights.run('b', () => 7),
    ];
    expect(flights.size).toBe(2);
    gate.resolve(42);
    expect(await Promise.all(calls)).toEqual([42, 42, 42, 7]);
    expect(runs).toBe(1);
    expect(events.map((e) => (e.type === 'cache' ? e.result : e.type))).toEqual([
      'miss',
      'shared',
      'shared',
      'miss',
    ]);
    expect(events[0]).toEqual({ type: 'cache', policy: 'products', kind: 'single-flight', result: 'miss' });
  });

  it('shares errors too, and frees the key once settled (nothing is cached)', async () => {
    const flights = new SingleFlight<string>();
    const gate = deferred<string>();
    const a = flights.run('k', () => gate.promise);
    const b = flights.run('k', () => 'never runs');
    gate.reject(new Error('db down'));
    await expect(a).rejects.toThrow('db down');
    await expect(b).rejects.toThrow('db down');
    expect(flights.size).toBe(0);
    expect(await flights.run('k', () => 'again')).toBe('again');
  });

  it('turns a synchronous throw into a shared rejection', async () => {
    const flights = new SingleFlight<string>();
    await expect(
      flights.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(flights.has('k')).toBe(false);
  });
});
