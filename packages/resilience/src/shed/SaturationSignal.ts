import { checkNumber, invalidOption, reportError, systemClock } from '@ballast/core';
import type { Clock, Priority } from '@ballast/core';
import type { AdmissionSignal } from './EventLoopPressure.js';

/** Options for {@link SaturationSignal}. */
export interface SaturationSignalOptions {
  /**
   * How saturated the resource that critical work needs is, from 0 (room to spare) to 1 (full), read on every
   * admission: e.g. `() => bulkhead.queued / bulkhead.maxQueued` for the bulkhead in front of checkout's database.
   */
  readonly saturation: () => number;
  /**
   * Saturation above which each class is shed. `sheddable: 0` sheds sheddable work as soon as critical work has to
   * wait at all.
   * @default { sheddable: 0, default: 0.5 }
   */
  readonly thresholds?: Partial<Readonly<Record<'sheddable' | 'default', number>>>;
  /**
   * Shed `critical` calls too while the resource is full (saturation 1 or more), where it would refuse them
   * itself: refused at the door, they cost nothing of what they would have cost on their way to it.
   * @default true
   */
  readonly shedCriticalWhenFull?: boolean;
  /**
   * Shed `sheddable` and `default` calls only while this answers true: e.g. `() => loop.underPressure` with an
   * {@link EventLoopPressure}, so that when critical work waits on a dependency that is slow by itself (a database
   * brownout) and the process has CPU to spare, cheap sheddable work keeps being served. A condition that throws
   * counts as true.
   * @default always
   */
  readonly onlyWhile?: () => boolean;
  /**
   * Judge the lower classes by the saturation averaged over about this many milliseconds (an exponentially weighted
   * average over time) rather than by its value now; 0 judges by the value now. At its capacity a service's queue
   * fills and empties many times a second, and a signal read at each instant sheds cheap work through every burst;
   * averaged, it sheds only while the queue stays mostly occupied, which is overload. Critical work is still refused
   * by the value now once the resource is full. With an average, give thresholds above 0 (it is rarely exactly 0).
   * @default 0
   */
  readonly smoothingMs?: number;
  /** Time source of the average. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Priority admission by the saturation of a resource critical work depends on. A concurrency limit counts calls,
 * and in a service whose critical calls cost many times what its sheddable ones do (a checkout that writes to the
 * database against a cached catalog read) a limit that keeps critical latency down never binds for cheap reads:
 * they keep taking the CPU and connections the checkouts queue for. This signal closes that gap: while the
 * resource critical work waits on is saturated past a class's threshold, calls of that class are shed at the door,
 * so whatever capacity the process has goes to critical work first, and sheddable work gets what critical work
 * leaves. Once the resource is full, critical calls are refused at the door too, where a refusal is cheap, instead
 * of after all the work that leads to the resource. Give it to a {@link ConcurrencyLimiter} as its `admission`.
 *
 * A `saturation` function that throws or answers something other than a number admits everything (reported once
 * per failure through `reportError`): a broken signal must not shed traffic.
 *
 * With `smoothingMs`, the lower classes are judged by the saturation averaged over time, so that the bursts of a
 * service at its capacity do not shed them (see the example's second signal).
 *
 * @example
 * ```ts
 * import { BulkheadPolicy, ConcurrencyLimiter, SaturationSignal } from '@ballast/resilience';
 * const inventory = new BulkheadPolicy({ name: 'inventory', limit: 16, maxQueued: 32 });
 * const ingress = new ConcurrencyLimiter({
 *   name: 'ingress',
 *   admission: new SaturationSignal({ saturation: () => inventory.queued / inventory.maxQueued }),
 * });
 * // Reads shed only while checkouts have been waiting for more than half of the last ~250 ms.
 * const sustained = new SaturationSignal({
 *   saturation: () => (inventory.queued > 0 ? 1 : 0),
 *   smoothingMs: 250,
 *   thresholds: { sheddable: 0.5, default: 0.5 },
 * });
 * ```
 */
export class SaturationSignal implements AdmissionSignal {
  readonly #saturation: () => number;
  readonly #sheddable: number;
  readonly #default: number;
  readonly #critical: boolean;
  readonly #onlyWhile: (() => boolean) | undefined;
  readonly #smoothingMs: number;
  readonly #clock: Clock;
  /** The average so far, the value last read (held since `#at`), and when it was read. */
  #average = 0;
  #last = 0;
  #at = Number.NaN;

  constructor(options: SaturationSignalOptions) {
    const saturation: unknown = (options as Partial<SaturationSignalOptions> | undefined)?.saturation;
    if (typeof saturation !== 'function') {
      throw invalidOption('saturation', 'a function answering how full the resource is, 0..1', saturation);
    }
    this.#saturation = saturation as () => number;
    this.#sheddable = checkNumber('thresholds.sheddable', options.thresholds?.sheddable, 0, {
      min: 0,
      max: 1,
    });
    this.#default = checkNumber('thresholds.default', options.thresholds?.default, 0.5, {
      min: this.#sheddable,
      max: 1,
    });
    this.#critical = options.shedCriticalWhenFull ?? true;
    if (typeof this.#critical !== 'boolean') {
      throw invalidOption('shedCriticalWhenFull', 'a boolean', options.shedCriticalWhenFull);
    }
    if (options.onlyWhile !== undefined && typeof options.onlyWhile !== 'function') {
      throw invalidOption('onlyWhile', 'a function answering a boolean', options.onlyWhile);
    }
    this.#onlyWhile = options.onlyWhile;
    this.#smoothingMs = checkNumber('smoothingMs', options.smoothingMs, 0, { min: 0 });
    this.#clock = options.clock ?? systemClock;
  }

  /** The current saturation, 0..1 (NaN when the source failed). */
  get saturation(): number {
    try {
      const value = this.#saturation();
      return typeof value === 'number' ? value : Number.NaN;
    } catch (error) {
      reportError(error, 'SaturationSignal: saturation() threw');
      return Number.NaN;
    }
  }

  admits(priority: Priority): boolean {
    if (priority === 'critical' && !this.#critical && this.#smoothingMs === 0) return true;
    const now = this.saturation;
    if (Number.isNaN(now)) return true;
    const judged = this.#smoothingMs === 0 ? now : this.#averaged(now);
    if (priority === 'critical') return !this.#critical || now < 1;
    if (judged <= (priority === 'sheddable' ? this.#sheddable : this.#default)) return true;
    return !this.#shedding();
  }

  /**
   * Folds `now` into the average over time: the value read last held from its reading until this one, and weighs
   * `1 - e^(-elapsed / smoothingMs)` against the average before it.
   */
  #averaged(now: number): number {
    const at = this.#clock.now();
    // The first reading starts the average at 0: only saturation that lasts sheds.
    if (!Number.isNaN(this.#at) && at > this.#at) {
      this.#average += (1 - Math.exp(-(at - this.#at) / this.#smoothingMs)) * (this.#last - this.#average);
    }
    this.#at = at;
    this.#last = now;
    return this.#average;
  }

  #shedding(): boolean {
    if (this.#onlyWhile === undefined) return true;
    try {
      return this.#onlyWhile() !== false;
    } catch (error) {
      reportError(error, 'SaturationSignal: onlyWhile() threw');
      return true;
    }
  }
}
