import { type Clock, type TimerHandle, type TimerOptions, systemClock } from '@ballast/core';

/**
 * A clock whose `now()` is a cached reading of another clock, refreshed by one timer every `resolutionMs` while it
 * is being read (the timer stops after a tick in which nobody read the time). The refresh timer is background work
 * (`ref: false`): it never keeps a process alive. Reading it costs a field load instead
 * of a `performance.now()` call, which is what keeps deadline arithmetic well under a microsecond per call.
 *
 * This is how libuv itself treats timers: Node's `setTimeout` measures from the loop's cached time, so a deadline
 * computed from a coarse reading is no less exact than the timer that would enforce it.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@ballast/core';
 * // Internal to @ballast/resilience (not exported from the package).
 * import { CoarseClock } from './CoarseClock.js';
 * const coarse = new CoarseClock(new ManualClock(0), 1);
 * coarse.now(); // 0
 * ```
 */
export class CoarseClock implements Clock {
  readonly #source: Clock;
  readonly #resolutionMs: number;
  #now = 0;
  #ticking = false;
  #read = false;

  /**
   * @param source - the clock to read. @default systemClock
   * @param resolutionMs - how often the cached reading is refreshed. @default 1
   */
  constructor(source: Clock = systemClock, resolutionMs = 1) {
    this.#source = source;
    this.#resolutionMs = resolutionMs;
  }

  now(): number {
    if (!this.#ticking) {
      this.#now = this.#source.now();
      this.#ticking = true;
      this.#source.setTimeout(this.#tick, this.#resolutionMs, background);
    }
    this.#read = true;
    return this.#now;
  }

  /** Sets a timer on the source clock, passing `options` on (so a wait someone awaits still holds the process). */
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle {
    return this.#source.setTimeout(callback, ms, options);
  }

  clearTimeout(handle: TimerHandle): void {
    this.#source.clearTimeout(handle);
  }

  readonly #tick = (): void => {
    if (!this.#read) {
      this.#ticking = false;
      return;
    }
    this.#read = false;
    this.#now = this.#source.now();
    this.#source.setTimeout(this.#tick, this.#resolutionMs, background);
  };
}

const background: TimerOptions = { ref: false };

let sharedCoarse: CoarseClock | undefined;

/**
 * The clock a hot path should read: a shared {@link CoarseClock} over the system clock when given the system
 * clock, and the given clock unchanged otherwise (so tests with a `ManualClock` stay exact).
 */
export function fastClock(clock: Clock): Clock {
  if (clock !== systemClock) return clock;
  return (sharedCoarse ??= new CoarseClock(systemClock, 1));
}
