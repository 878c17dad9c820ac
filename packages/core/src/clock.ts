/**
 * A handle returned by {@link Clock.setTimeout}; pass it to {@link Clock.clearTimeout}.
 */
export type TimerHandle = { readonly __timer: unknown } | object;

/**
 * The source of time for every Ballast core. Cores never read `Date.now()` or call the global `setTimeout`
 * directly: they take a `Clock`, so tests drive time with a {@link ManualClock} and never sleep.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ballast/core';
 * const started = systemClock.now();
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch; may be fractional. Never goes backwards on the system clock. */
  now(): number;
  /** Runs `callback` after `ms` milliseconds of this clock's time. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer made by {@link Clock.setTimeout}; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

const origin = performance.timeOrigin;

/**
 * The real clock: epoch milliseconds from `performance.timeOrigin + performance.now()` (monotonic within the
 * process, sub-millisecond resolution) and unref'd Node timers, so a pending timer never keeps a process alive.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ballast/core';
 * systemClock.setTimeout(() => console.log('later'), 10);
 * ```
 */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface ManualTimer {
  readonly at: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. Timers fire in due order during {@link ManualClock.advance}; the
 * asynchronous variant lets promise callbacks run between timers, which is what code under test that awaits
 * between steps needs.
 *
 * Public test double: use it in your own tests of code that takes a {@link Clock}.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@ballast/core';
 * const clock = new ManualClock(0);
 * let fired = false;
 * clock.setTimeout(() => (fired = true), 100);
 * clock.advance(100);
 * // fired === true
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: ManualTimer[] = [];

  /** @param start - the starting time in epoch milliseconds. @default 0 */
  constructor(start = 0) {
    if (!Number.isFinite(start)) {
      throw new TypeError(
        `Expected \`start\` to be a finite number, got \`${String(start)}\` (${typeof start})`,
      );
    }
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Number of timers that have not fired or been cleared. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = {
      at: this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0),
      seq: this.#seq++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
    this.#timers = this.#timers.filter((t) => t !== handle);
  }

  /** Sets the time without firing timers that fall due (use {@link ManualClock.advance} to fire them). */
  set(now: number): void {
    this.#now = now;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, at its own due time. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#now = Math.max(this.#now, timer.at);
      timer.callback();
    }
    this.#now = target;
  }

  /**
   * Like {@link ManualClock.advance}, but drains pending promise callbacks before and after each timer, so
   * `async` code that sets a new timer after an `await` sees it fire within the same advance.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (let timer = this.#nextDue(target); timer; timer = this.#nextDue(target)) {
      this.#now = Math.max(this.#now, timer.at);
      timer.callback();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  #nextDue(target: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.#timers) {
      if (t.at <= target && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    }
    if (best) this.#timers.splice(this.#timers.indexOf(best), 1);
    return best;
  }
}

/** Resolves after every currently queued promise callback (and the ones they queue, a few levels deep) ran. */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
