import { checkFunction, checkNumber, invalidOption } from '@ballast/core';
import type { LimitAlgorithm, LimitBoundsOptions, LimitSample } from './LimitAlgorithm.js';
import { checkBounds } from './limitOptions.js';

/** Options for {@link Gradient2Limit}. Defaults are Netflix concurrency-limits' `Gradient2Limit` defaults. */
export interface Gradient2Options extends LimitBoundsOptions {
  /**
   * How far the limit moves toward each new estimate (0 < smoothing <= 1; 1 replaces it outright).
   * @default 0.2
   */
  readonly smoothing?: number;
  /**
   * Headroom added to each estimate, so the limit can probe upward while latency holds: a number, or a function
   * of the current limit (Envoy uses `sqrt(limit)`).
   * @default 4
   */
  readonly queueSize?: number | ((limit: number) => number);
  /** Samples in the long-term RTT exponential average (its factor is `2 / (longWindow + 1)`). @default 600 */
  readonly longWindow?: number;
  /** How much slower than the long-term RTT a sample may be before the limit shrinks (>= 1). @default 1.5 */
  readonly rttTolerance?: number;
}

/** Samples averaged arithmetically before the long-term RTT switches to an exponential average. */
const WARMUP_SAMPLES = 10;

/**
 * Latency-gradient limit, after Netflix concurrency-limits' `Gradient2Limit` (github.com/Netflix/concurrency-limits)
 * and the gradient controller of Envoy's adaptive concurrency filter. It compares each sample's RTT (`shortRtt`) with
 * a long-term exponentially averaged RTT (`longRtt`) and, per sample:
 *
 * ```text
 * gradient = clamp(rttTolerance * longRtt / shortRtt, 0.5, 1)      // 1 = no queueing; never halve at once
 * estimate = limit * gradient + queueSize(limit)                    // allow some queueing
 * limit    = clamp(limit * (1 - smoothing) + estimate * smoothing, minLimit, maxLimit)
 * ```
 *
 * When `longRtt > 2 * shortRtt` (load went away and the baseline lags) `longRtt` decays by 5% per sample. While
 * fewer than half of the limit is in flight the limit does not move: an idle service learns nothing about its
 * capacity. A dropped sample (a timeout, a 503) is an overload signal: it moves the limit with the smallest gradient
 * (0.5) and leaves `longRtt` alone, since a timed-out call's RTT is the caller's deadline; without this, calls
 * that all time out give a constant RTT, a gradient of 1, and a limit that climbs to `maxLimit` (Netflix's
 * version counts drops like any other sample).
 *
 * @example
 * ```ts
 * import { ConcurrencyLimiter, Gradient2Limit } from '@ballast/resilience';
 * const limiter = new ConcurrencyLimiter({ algorithm: new Gradient2Limit({ initialLimit: 50, maxLimit: 500 }) });
 * ```
 */
export class Gradient2Limit implements LimitAlgorithm {
  readonly #min: number;
  readonly #max: number;
  readonly #smoothing: number;
  readonly #queueSize: (limit: number) => number;
  readonly #factor: number;
  readonly #tolerance: number;
  #estimate: number;
  #longRtt = 0;
  #samples = 0;
  #sum = 0;

  constructor(options: Gradient2Options = {}) {
    const bounds = checkBounds(options, 20);
    this.#min = bounds.min;
    this.#max = bounds.max;
    this.#estimate = bounds.initial;
    this.#smoothing = checkNumber('smoothing', options.smoothing, 0.2, { above: 0, max: 1 });
    const q = options.queueSize;
    if (typeof q === 'number' || q === undefined) {
      const size = checkNumber('queueSize', q, 4, { min: 0 });
      this.#queueSize = () => size;
    } else {
      this.#queueSize = checkFunction('queueSize', q, () => 4);
    }
    this.#factor = 2 / (checkNumber('longWindow', options.longWindow, 600, { integer: true, min: 1 }) + 1);
    this.#tolerance = checkNumber('rttTolerance', options.rttTolerance, 1.5, { min: 1 });
  }

  get limit(): number {
    return Math.floor(this.#estimate);
  }

  /** The long-term (baseline) RTT in milliseconds; 0 before the first sample. */
  get longRttMs(): number {
    return this.#longRtt;
  }

  update(sample: LimitSample): number {
    const shortRtt = sample.rttMs;
    if (!(shortRtt > 0) || !Number.isFinite(shortRtt)) {
      // A zero or negative RTT (coarse clock, instant failure) carries no latency signal.
      if (!(shortRtt >= 0)) throw invalidOption('sample.rttMs', 'a finite number >= 0', shortRtt);
      return this.limit;
    }
    if (sample.dropped) {
      // A drop (a timeout, a 503) is an overload signal, and its RTT is often the caller's deadline rather than the
      // service's latency: it must neither lift the long-term RTT toward the deadline nor leave the gradient at 1.
      // Back off as far as one sample may (gradient 0.5), whatever is in flight.
      this.#move(0.5);
      return this.limit;
    }
    if (this.#samples < WARMUP_SAMPLES) {
      this.#samples++;
      this.#sum += shortRtt;
      this.#longRtt = this.#sum / this.#samples;
    } else {
      this.#longRtt = this.#longRtt * (1 - this.#factor) + shortRtt * this.#factor;
    }
    if (this.#longRtt / shortRtt > 2) this.#longRtt *= 0.95;
    if (sample.inFlight < this.#estimate / 2) return this.limit;

    this.#move(Math.max(0.5, Math.min(1, (this.#tolerance * this.#longRtt) / shortRtt)));
    return this.limit;
  }

  #move(gradient: number): void {
    const estimate = this.#estimate * gradient + this.#queueSize(this.limit);
    const next = this.#estimate * (1 - this.#smoothing) + estimate * this.#smoothing;
    this.#estimate = Math.max(this.#min, Math.min(this.#max, next));
  }
}
