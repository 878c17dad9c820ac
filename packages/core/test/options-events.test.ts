import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  brand,
  checkFunction,
  checkNumber,
  checkOneOf,
  EventEmitter,
  hasBrand,
  invalidOption,
  setErrorHandler,
} from '../src/index.js';

describe('option checks', () => {
  it.each([
    [{ integer: true, min: 1 }, 0, 'Expected `n` to be an integer >= 1, got `0` (number)'],
    [{ above: 0 }, -1, 'Expected `n` to be a finite number > 0, got `-1` (number)'],
    [{ min: 0, max: 1 }, 2, 'Expected `n` to be a finite number >= 0 <= 1, got `2` (number)'],
    [{}, '5', 'Expected `n` to be a finite number, got `"5"` (string)'],
    [{ integer: true }, 1.5, 'Expected `n` to be an integer, got `1.5` (number)'],
    [{}, null, 'Expected `n` to be a finite number, got `null` (null)'],
  ])('checkNumber(%j) rejects %j', (bounds, value, message) => {
    expect(() => checkNumber('n', value, 1, bounds)).toThrow(new TypeError(message));
  });

  it('returns the fallback for undefined and the value when valid', () => {
    expect(checkNumber('n', undefined, 7)).toBe(7);
    expect(checkNumber('n', 3, 7, { integer: true, min: 1 })).toBe(3);
    expect(checkOneOf('m', undefined, ['a', 'b'], 'a')).toBe('a');
    expect(() => checkOneOf('m', 'c', ['a', 'b'], 'a')).toThrow(
      "Expected `m` to be one of 'a', 'b', got `\"c\"` (string)",
    );
    expect(() => checkFunction('f', 1, () => 0)).toThrow('Expected `f` to be a function, got `1` (number)');
  });

  it('shortens long values', () => {
    expect(invalidOption('x', 'short', 'y'.repeat(200)).message.length).toBeLessThan(140);
  });
});

describe('brands', () => {
  it('recognises a branded error from another copy by symbol, not class', () => {
    const symbol = Symbol.for('ballast.TestError');
    const e = new Error('x');
    brand(e, symbol);
    expect(hasBrand(e, symbol)).toBe(true);
    expect(hasBrand(new Error('x'), symbol)).toBe(false);
    expect(hasBrand(null, symbol)).toBe(false);
    expect(Object.keys(e)).toEqual([]);
  });
});

describe('EventEmitter', () => {
  afterEach(() => setErrorHandler(undefined));

  it('delivers in order, stops after dispose, and reports listener errors instead of throwing', () => {
    const emitter = new EventEmitter<number>();
    expect(emitter.hasListeners).toBe(false);
    const seen: number[] = [];
    const handler = vi.fn();
    setErrorHandler(handler);
    const a = emitter.event((n) => seen.push(n));
    emitter.event(() => {
      throw new Error('listener bug');
    });
    emitter.event((n) => seen.push(n * 10));
    expect(() => emitter.emit(1)).not.toThrow();
    expect(seen).toEqual([1, 10]);
    expect(handler).toHaveBeenCalledWith(
      expect.objectContaining({ message: 'listener bug' }),
      'event listener threw',
    );
    a.dispose();
    a.dispose();
    emitter.emit(2);
    expect(seen).toEqual([1, 10, 20]);
  });
});
