import { checkNumber, invalidOption } from '@ballast/core';
import type { LimitBoundsOptions } from './LimitAlgorithm.js';

/**
 * Internal to the package (not exported): the bounds every limit algorithm checks the same way.
 *
 * @example
 * ```ts
 * const { min, max, initial } = checkBounds({ maxLimit: 50 }, 1); // { min: 1, max: 50, initial: 20 }
 * ```
 */
export function checkBounds(
  options: LimitBoundsOptions,
  defaultMin: number,
): { readonly min: number; readonly max: number; readonly initial: number } {
  const min = checkNumber('minLimit', options.minLimit, defaultMin, { integer: true, min: 1 });
  const max = checkNumber('maxLimit', options.maxLimit, 200, { integer: true, min });
  const initial = checkNumber('initialLimit', options.initialLimit, Math.min(20, max), {
    integer: true,
    min,
    max,
  });
  return { min, max, initial };
}

/**
 * Internal to the package: the factor a drop multiplies the limit by, in [0.5, 1).
 *
 * @example
 * ```ts
 * const backoff = checkBackoffRatio(undefined); // 0.9
 * ```
 */
export function checkBackoffRatio(value: unknown): number {
  const backoff = value ?? 0.9;
  if (typeof backoff !== 'number' || !(backoff >= 0.5 && backoff < 1)) {
    throw invalidOption('backoffRatio', 'a number >= 0.5 and < 1', backoff);
  }
  return backoff;
}
