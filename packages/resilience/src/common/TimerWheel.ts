import { type Clock, type TimerHandle, reportError } from '@ballast/core';

/** A pending callback in a {@link TimerWheel}; pass it to {@link TimerWheel.cancel}. */
export interface WheelEntry {
  readonly at: number;
  readonly callback: () => void;
}

/**
 * Many deadlines, one timer: entries are grouped in buckets of `resolutionMs` and only the earliest bucket has a
 * clock timer. Scheduling and cancelling are a `Set` insert/delete; the cost of a real timer is paid once per
 * bucket, not once per call.
 *
 * Every entry is a wait someone awaits (a timeout racing a call, a deadline's signal), so the wheel's timer holds
 * the process while any entry is pending, and stops holding it as soon as the last one is cancelled: when the
 * clock's handles can be `unref()`'d (Node timers) the armed timer is unref'd, otherwise it is cleared.
 *
 * @example
 * ```ts
 * import { ManualClock } from '@ballast/core';
 * // Internal to @ballast/resilience (not exported from the package).
 * import { TimerWheel } from './TimerWheel.js';
 * const clock = new ManualClock(0);
 * const wheel = new TimerWheel(clock, 1);
 * const entry = wheel.schedule(250, () => console.log('due'));
 * wheel.cancel(entry); // finished early
 * ```
 */
export class TimerWheel {
  readonly #clock: Clock;
  readonly #resolution: number;
  readonly #buckets = new Map<number, Set<WheelEntry>>();
  /** Bucket keys in ascending order. */
  readonly #keys: number[] = [];
  #timer: TimerHandle | undefined;
  #armedKey = Infinity;
  /** Entries scheduled and neither fired nor cancelled. */
  #live = 0;
  /** Whether the armed timer currently holds the process. */
  #held = false;

  constructor(clock: Clock, resolutionMs = 1) {
    this.#clock = clock;
    this.#resolution = resolutionMs;
  }

  /** Number of entries not yet fired or cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Runs `callback` once the clock reaches `at` (rounded up to the wheel's resolution). */
  schedule(at: number, callback: () => void): WheelEntry {
    const entry: WheelEntry = { at, callback };
    const key = Math.ceil(at / this.#resolution);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = new Set();
      this.#buckets.set(key, bucket);
      this.#insertKey(key);
    }
    bucket.add(entry);
    this.#live++;
    if (key < this.#armedKey) this.#arm();
    else if (!this.#held) this.#hold();
    return entry;
  }

  /** Cancels an entry; cancelling a fired or unknown entry does nothing. */
  cancel(entry: WheelEntry): void {
    if (!this.#buckets.get(Math.ceil(entry.at / this.#resolution))?.delete(entry)) return;
    if (--this.#live === 0) this.#release();
  }

  /** Makes the armed timer hold the process again (an entry arrived while it was released). */
  #hold(): void {
    const timer = this.#timer as Partial<NodeTimeout> | undefined;
    if (timer && typeof timer.ref === 'function') {
      timer.ref();
      this.#held = true;
    } else {
      this.#arm();
    }
  }

  /** Nothing is pending: the process must not wait for the armed timer. */
  #release(): void {
    const timer = this.#timer as Partial<NodeTimeout> | undefined;
    if (!timer) return;
    if (typeof timer.unref === 'function') {
      timer.unref();
      this.#held = false;
      return;
    }
    this.#clock.clearTimeout(timer);
    this.#timer = undefined;
    this.#armedKey = Infinity;
    this.#held = false;
    // The keys of cancelled entries stay; they are skipped when an entry next arms the timer.
  }

  #insertKey(key: number): void {
    const keys = this.#keys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    keys.splice(lo, 0, key);
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedKey = Infinity;
    this.#held = false;
    const first = this.#keys[0];
    if (first === undefined) return;
    this.#armedKey = first;
    const delay = Math.max(0, first * this.#resolution - this.#clock.now());
    const held = this.#live > 0;
    this.#timer = this.#clock.setTimeout(this.#fire, delay, { ref: held });
    this.#held = held;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedKey = Infinity;
    const nowKey = Math.floor(this.#clock.now() / this.#resolution);
    let due = 0;
    while (due < this.#keys.length && this.#keys[due]! <= nowKey) due++;
    const keys = this.#keys.splice(0, due);
    for (const key of keys) {
      const bucket = this.#buckets.get(key);
      this.#buckets.delete(key);
      if (!bucket) continue;
      this.#live -= bucket.size;
      for (const entry of bucket) {
        try {
          entry.callback();
        } catch (error) {
          reportError(error, 'timer wheel callback threw');
        }
      }
    }
    this.#arm();
  };
}

/** The part of a Node `Timeout` the wheel uses when the clock's handles are Node timers. */
interface NodeTimeout {
  ref(): unknown;
  unref(): unknown;
}

const wheels = new WeakMap<Clock, TimerWheel>();

/** The shared wheel for `clock` (one per clock, created on first use). */
export function wheelFor(clock: Clock): TimerWheel {
  let wheel = wheels.get(clock);
  if (!wheel) {
    wheel = new TimerWheel(clock);
    wheels.set(clock, wheel);
  }
  return wheel;
}
