import { type Clock, checkNumber, reportError, systemClock } from '@ballast/core';
import { fastClock } from '../common/CoarseClock.js';
import { type WheelEntry, wheelFor } from '../common/TimerWheel.js';
import { DeadlineExceededError } from './DeadlineExceededError.js';

/**
 * A point in time by which a request must be answered. Nested calls receive the same deadline (through the call
 * context, or ambiently with `runWithDeadline`), and a timeout policy inside can only make it earlier, so the
 * remaining budget shrinks as calls nest and no inner call waits for an answer nobody will read.
 *
 * A deadline creates no timer and no `AbortController` until someone reads {@link Deadline.signal}; even then the
 * timer is an entry in one shared timer wheel, not a `setTimeout` of its own.
 *
 * @example
 * ```ts
 * import { Deadline } from '@ballast/resilience';
 * const deadline = Deadline.after(800);
 * await fetch(url, { signal: deadline.signal });
 * ```
 */
export class Deadline {
  /** The deadline, in the clock's milliseconds. */
  readonly at: number;
  /** The clock the deadline is measured with. */
  readonly clock: Clock;
  #controller: AbortController | undefined;
  #entry: WheelEntry | undefined;

  /**
   * @param at - the deadline in `clock` milliseconds.
   * @param clock - the clock to measure with. @default systemClock
   */
  constructor(at: number, clock: Clock = systemClock) {
    if (typeof at !== 'number' || Number.isNaN(at)) {
      throw new TypeError(`Expected \`at\` to be a number, got \`${String(at)}\` (${typeof at})`);
    }
    this.at = at;
    this.clock = fastClock(clock);
  }

  /**
   * A deadline `ms` milliseconds from now.
   *
   * @example
   * ```ts
   * const deadline = Deadline.after(250, clock);
   * ```
   */
  static after(ms: number, clock: Clock = systemClock): Deadline {
    checkNumber('ms', ms, 0, { min: 0 });
    const fast = fastClock(clock);
    return new Deadline(fast.now() + ms, fast);
  }

  /** Milliseconds left (negative once passed). */
  remainingMs(): number {
    return this.at - this.clock.now();
  }

  /** True once the deadline has passed. */
  get expired(): boolean {
    return this.clock.now() >= this.at;
  }

  /**
   * The earlier of this deadline and `ms` from now: what a nested call with its own timeout gets.
   *
   * @example
   * ```ts
   * const forInventory = deadline.within(300);
   * ```
   */
  within(ms: number): Deadline {
    const at = this.clock.now() + ms;
    return at < this.at ? new Deadline(at, this.clock) : this;
  }

  /**
   * An `AbortSignal` that aborts (with a `DeadlineExceededError`) when the deadline passes. Created on first read;
   * the deadline's timer lives in a shared timer wheel.
   */
  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    const remaining = this.remainingMs();
    if (remaining <= 0) controller.abort(new DeadlineExceededError('deadline', -remaining));
    else this.#entry = wheelFor(this.clock).schedule(this.at, () => this.#abort());
    return controller.signal;
  }

  /** Releases the deadline's wheel entry, if its signal was read; call when the work finished early. */
  dispose(): void {
    if (this.#entry) wheelFor(this.clock).cancel(this.#entry);
    this.#entry = undefined;
  }

  #abort(): void {
    this.#entry = undefined;
    try {
      this.#controller?.abort(new DeadlineExceededError('deadline', Math.max(0, -this.remainingMs())));
    } catch (error) {
      reportError(error, 'deadline abort listener threw');
    }
  }
}
