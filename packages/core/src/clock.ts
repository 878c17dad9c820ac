/**
 * A handle returned by {@link Clock.setTimeout}; pass it to {@link Clock.clearTimeout}.
 */
export type TimerHandle = { readonly __timer: unknown } | object;

/**
 * Options for {@link Clock.setTimeout}.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ballast/core';
 * // Background work: the process may exit while this timer is pending.
 * systemClock.setTimeout(() => console.log('sweeping'), 60_000, { ref: false });
 * ```
 */
export interface TimerOptions {
  /**
   * Whether the pending timer keeps the process alive (a "ref'd" timer, as Node calls it). Leave it `true` for a
   * wait that someone awaits: a retry delay, a queue-wait limit, a timeout racing a call. Pass `false` for
   * background work that nobody awaits (periodic evaluation, cache sweeps, clock refreshes), so a process with
   * nothing else to do still exits.
   * @default true
   */
  readonly ref?: boolean;
}

/**
 * The source of time for every Ballast core. Cores never read `Date.now()` or call the global `setTimeout`
 * directly: they take a `Clock`, so tests drive time with a {@link ManualClock} and never sleep.
 *
 * Which timers hold the process: a timer keeps a Node process alive while it is pending unless it was set with
 * `{ ref: false }`. Ballast sets every timer that settles something a caller awaits with the default (ref'd) and
 * only its background timers with `ref: false`. A `Clock` you implement yourself may ignore the third argument
 * (its timers then all behave as your implementation makes them); honour it if your clock wraps Node timers.
 *
 * @example
 * ```ts
 * import { type Clock, systemClock } from '@ballast/core';
 * const started = systemClock.now();
 * // A clock of your own: delegate to the system clock, passing the options on.
 * const offset: Clock = {
 *   now: () => systemClock.now() + 5_000,
 *   setTimeout: (callback, ms, options) => systemClock.setTimeout(callback, ms, options),
 *   clearTimeout: (handle) => systemClock.clearTimeout(handle),
 * };
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch; may be fractional. Never goes backwards on the system clock. */
  now(): number;
  /**
   * Runs `callback` after `ms` milliseconds of this clock's time. The timer keeps the process alive while pending
   * unless `options.ref` is `false` (see {@link TimerOptions}); implementations may ignore `options`.
   */
  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle;
  /** Cancels a timer made by {@link Clock.setTimeout}; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

const origin = performance.timeOrigin;

/**
 * The real clock: epoch milliseconds from `performance.timeOrigin + performance.now()` (monotonic within the
 * process, sub-millisecond resolution) and Node timers. A timer keeps the process alive while pending, like
 * Node's own `setTimeout`, unless set with `{ ref: false }` (then it is `unref()`'d). Handles are Node `Timeout`
 * objects.
 *
 * @example
 * ```ts
 * import { systemClock } from '@ballast/core';
 * systemClock.setTimeout(() => console.log('later'), 10); // holds the process until it fires
 * systemClock.setTimeout(() => console.log('if still running'), 10, { ref: false });
 * ```
 */
export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout(callback, ms, options) {
    const timer = setTimeout(callback, ms);
    if (options?.ref === false) timer.unref();
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
  readonly ref: boolean;
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

  /**
   * Number of pending timers set without `{ ref: false }`: the ones that would keep a process alive on the
   * system clock. Tests use it to check that a wait the caller awaits holds the process and background work
   * does not.
   *
   * @example
   * ```ts
   * const clock = new ManualClock(0);
   * clock.setTimeout(() => {}, 10, { ref: false });
   * clock.pendingRefTimers; // 0
   * ```
   */
  get pendingRefTimers(): number {
    return this.#timers.filter((t) => !t.cancelled && t.ref).length;
  }

  setTimeout(callback: () => void, ms: number, options?: TimerOptions): TimerHandle {
    const timer: ManualTimer = {
      at: this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0),
      seq: this.#seq++,
      callback,
      ref: options?.ref !== false,
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
