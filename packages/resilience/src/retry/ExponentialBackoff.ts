import { checkNumber, checkOneOf, invalidOption } from '@ballast/core';
import type { Backoff } from './Backoff.js';

/**
 * Jitter for {@link ExponentialBackoff}, after Marc Brooker, "Exponential Backoff and Jitter", AWS Architecture
 * Blog (2015), with `base`, `cap` and `attempt` (1 for the first retry):
 * - `'none'`: `sleep = min(cap, base * 2 ** (attempt - 1))`
 * - `'full'`: `sleep = random_between(0, min(cap, base * 2 ** (attempt - 1)))`
 * - `'equal'`: `temp = min(cap, base * 2 ** (attempt - 1)); sleep = temp / 2 + random_between(0, temp / 2)`
 * - `'decorrelated'`: `sleep = min(cap, random_between(base, previous_sleep * 3))` (previous starts at `base`)
 */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/** Options for {@link ExponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /** First delay (and the lower bound for decorrelated jitter), in milliseconds. @default 100 */
  readonly baseMs?: number;
  /** Longest delay, in milliseconds. @default 10000 */
  readonly maxMs?: number;
  /** @default 'full' */
  readonly jitter?: Jitter;
}

/**
 * Exponential backoff with jitter. Full jitter (the default) spreads retries of many clients evenly and, in the AWS
 * blog's simulation, does the least total work; decorrelated jitter grows from the previous delay instead of the
 * attempt number, giving slightly shorter waits for about the same spread.
 *
 * @example
 * ```ts
 * import { ExponentialBackoff } from '@ballast/resilience';
 * const backoff = new ExponentialBackoff({ baseMs: 50, maxMs: 2_000, jitter: 'decorrelated' });
 * ```
 */
export class ExponentialBackoff implements Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: Jitter;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.baseMs = checkNumber('baseMs', options.baseMs, 100, { min: 0 });
    this.maxMs = checkNumber('maxMs', options.maxMs, 10_000, { min: 0 });
    if (this.maxMs < this.baseMs)
      throw invalidOption('maxMs', `a number >= baseMs (${this.baseMs})`, this.maxMs);
    this.jitter = checkOneOf(
      'jitter',
      options.jitter,
      ['none', 'full', 'equal', 'decorrelated'] as const,
      'full',
    );
  }

  delayMs(attempt: number, previousMs: number, random: () => number): number {
    const { baseMs: base, maxMs: cap } = this;
    if (this.jitter === 'decorrelated') {
      const previous = Math.max(base, previousMs);
      return Math.min(cap, base + random() * (previous * 3 - base));
    }
    const temp = Math.min(cap, base * 2 ** Math.min(attempt - 1, 1023));
    if (this.jitter === 'full') return random() * temp;
    if (this.jitter === 'equal') return temp / 2 + random() * (temp / 2);
    return temp;
  }
}
