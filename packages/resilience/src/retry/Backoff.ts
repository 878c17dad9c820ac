/**
 * How long to wait before retry number `attempt` (1 for the first retry). Pure: randomness comes in as an
 * argument, so a test passes a fixed sequence.
 *
 * @example
 * ```ts
 * import type { Backoff } from '@ballast/resilience';
 * const constant: Backoff = { delayMs: () => 250 };
 * ```
 */
export interface Backoff {
  /**
   * @param attempt - 1 for the first retry, 2 for the second, ...
   * @param previousMs - the delay used before the previous retry (0 before the first).
   * @param random - a uniform random number source in [0, 1).
   */
  delayMs(attempt: number, previousMs: number, random: () => number): number;
}
