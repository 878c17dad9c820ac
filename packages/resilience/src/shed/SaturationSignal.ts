import { checkNumber, invalidOption, reportError } from '@ballast/core';
import type { Priority } from '@ballast/core';
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
 * @example
 * ```ts
 * import { BulkheadPolicy, ConcurrencyLimiter, SaturationSignal } from '@ballast/resilience';
 * const inventory = new BulkheadPolicy({ name: 'inventory', limit: 16, maxQueued: 32 });
 * const ingress = new ConcurrencyLimiter({
 *   name: 'ingress',
 *   admission: new SaturationSignal({ saturation: () => inventory.queued / inventory.maxQueued }),
 * });
 * ```
 */
export class SaturationSignal implements AdmissionSignal {
  readonly #saturation: () => number;
  readonly #sheddable: number;
  readonly #default: number;
  readonly #critical: boolean;
  readonly #onlyWhile: (() => boolean) | undefined;

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
    if (priority === 'critical' && !this.#critical) return true;
    const saturation = this.saturation;
    if (Number.isNaN(saturation)) return true;
    if (priority === 'critical') return saturation < 1;
    if (saturation <= (priority === 'sheddable' ? this.#sheddable : this.#default)) return true;
    return !this.#shedding();
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
