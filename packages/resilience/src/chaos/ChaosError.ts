import { brand, hasBrand } from '@ballast/core';

const kind = Symbol.for('ballast.ChaosError');

/**
 * The error a chaos policy throws when it injects a fault and no custom error was configured. It is marked
 * retryable so that chaos exercises the retry path the way a transient dependency error would.
 *
 * @example
 * ```ts
 * import { isChaosError } from '@ballast/resilience';
 * expect(isChaosError(error)).toBe(true);
 * ```
 */
export class ChaosError extends Error {
  override readonly name = 'ChaosError';
  readonly retryable = true;

  constructor(policy: string) {
    super(`Chaos "${policy}" injected a failure`);
    brand(this, kind);
  }
}

/** True when `error` is a {@link ChaosError} (from any copy of this package). */
export function isChaosError(error: unknown): error is ChaosError {
  return hasBrand(error, kind);
}
