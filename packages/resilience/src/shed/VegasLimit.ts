import { checkFunction, checkNumber, invalidOption } from '@ballast/core';
import type { LimitAlgorithm, LimitBoundsOptions, LimitSample } from './LimitAlgorithm.js';
import { checkBackoffRatio, checkBounds } from './limitOptions.js';

/**
 * A threshold or step of {@link VegasLimit}: a number, or a function of the current (integer) limit.
 *
 * @example
 * ```ts
 * import { VegasLimit } from '@ballast/resilience';
 * const limit = new VegasLimit({ alpha: (l) => Math.max(3, l / 10), beta: (l) => Math.max(6, l / 5) });
 * ```
 */
export type VegasThreshold = number | ((limit: number) => number);

/** Options for {@link VegasLimit}. */
export interface VegasOptions extends LimitBoundsOptions {
  /**
   * Below this estimated queue the limit grows by `step` a round (the service has room).
   * @default (limit) => 3 * log10(limit), at least 3
   */
  readonly alpha?: VegasThreshold;
  /**
   * Above this estimated queue the limit shrinks by `step` a round (calls are queueing); at or below `threshold` it
   * grows by `beta` a round (nothing queues at all). Must not be below `alpha`.
   * @default (limit) => 6 * log10(limit), at least 6
   */
  readonly beta?: VegasThreshold;
  /**
   * An estimated queue at or below this means no queueing: the limit grows fast (by `beta`).
   * @default (limit) => log10(limit), at least 1
   */
  readonly threshold?: VegasThreshold;
  /**
   * How far the limit moves in a round (`limit` samples) when the queue is below `alpha` or above `beta`.
   * @default (limit) => log10(limit), at least 1
   */
  readonly step?: VegasThreshold;
  /** Factor the limit is multiplied by on a dropped call, in [0.5, 1). @default 0.9 */
  readonly backoffRatio?: number;
  /**
   * How far the limit moves toward each new value (0 < smoothing <= 1; 1 replaces it outright).
   * @default 1
   */
  readonly smoothing?: number;
  /**
   * The no-load RTT is re-measured after about `probeMultiplier * limit` samples (jittered between half and all of
   * it, so that limiters started together do not probe together): the limit halves for one round of calls, and the
   * lowest RTT of calls admitted within the halved limit becomes the new no-load RTT.
   * @default 30
   */
  readonly probeMultiplier?: number;
  /** Uniform random numbers in [0, 1), for the probe jitter. @default Math.random */
  readonly random?: () => number;
}

/** `max(1, floor(log10(limit)))`: the scale of Vegas's default thresholds and steps. */
const log10 = (limit: number): number => Math.max(1, Math.floor(Math.log10(Math.max(1, limit))));

function threshold(name: string, value: VegasThreshold | undefined, fallback: (limit: number) => number) {
  if (typeof value === 'number' || value === undefined) {
    const fixed = checkNumber(name, value, 0, { min: 0 });
    return value === undefined ? fallback : () => fixed;
  }
  return checkFunction(name, value, fallback);
}

/**
 * Delay-based limit after TCP Vegas (Brakmo and Peterson, 1995) and Netflix concurrency-limits' `VegasLimit`. It
 * keeps the lowest RTT seen (`rttNoLoad`, the service with nothing queued) and estimates how many calls of the
 * current limit are queueing rather than being served:
 *
 * ```text
 * queue = ceil(limit * (1 - rttNoLoad / rtt))
 * dropped                 ->  limit = limit * backoffRatio
 * inFlight * 2 < limit    ->  hold                       // an idle service says nothing about its capacity
 * queue <= threshold      ->  change = +beta             // nothing queues: grow fast
 * queue <  alpha          ->  change = +step
 * queue >  beta           ->  change = -step
 * else                    ->  hold                       // alpha..beta queued: the sweet spot
 * new   = limit + change / limit                         // per sample: about `change` per round of `limit` calls
 * limit = clamp(limit * (1 - smoothing) + new * smoothing, minLimit, maxLimit)
 * ```
 *
 * TCP Vegas moves its window once a round trip; a limiter sees one sample per call, so each sample moves the limit
 * by `1 / limit` of the change (Netflix's `VegasLimit` applies the whole change on every sample, which overshoots
 * by a round's worth of calls when they all report the same queue).
 *
 * A dropped call's RTT is never a latency sample (a call that failed fast would pass for no load). A sample faster
 * than `rttNoLoad` replaces it. Every `probeMultiplier * limit` samples (jittered) the limit halves for one round,
 * as BBR's ProbeRTT drains the pipe: the lowest RTT of the calls admitted within the halved limit (`sample.inFlight`
 * tells) becomes `rttNoLoad`, so a service that became slower for good (a bigger payload, a slower disk) stops
 * looking queued, and a baseline taken under load is replaced by one without. (Netflix's `VegasLimit` instead
 * takes the next sample as it comes, which under sustained load is a queued one: its limit ratchets up a little at
 * every probe.) Unlike {@link Gradient2Limit}, whose baseline is an
 * average that drifts with sustained load, Vegas holds the limit where a few calls queue; unlike {@link AimdLimit} it
 * backs off before calls time out.
 *
 * @example
 * ```ts
 * import { ConcurrencyLimiter, VegasLimit } from '@ballast/resilience';
 * const limiter = new ConcurrencyLimiter({
 *   name: 'report-db',
 *   algorithm: new VegasLimit({ initialLimit: 10, minLimit: 2, maxLimit: 200 }),
 *   queue: false,
 * });
 * ```
 */
export class VegasLimit implements LimitAlgorithm {
  readonly #min: number;
  readonly #max: number;
  readonly #alpha: (limit: number) => number;
  readonly #beta: (limit: number) => number;
  readonly #threshold: (limit: number) => number;
  readonly #step: (limit: number) => number;
  readonly #backoff: number;
  readonly #smoothing: number;
  readonly #probeMultiplier: number;
  readonly #random: () => number;
  #estimate: number;
  #rttNoLoad = 0;
  #sinceProbe = 0;
  #probeJitter: number;
  /** The probe in progress: the halved limit, the lowest RTT within it, samples within it and samples in all. */
  #probe: { readonly limit: number; minRtt: number; seen: number; waited: number } | undefined;

  constructor(options: VegasOptions = {}) {
    const bounds = checkBounds(options, 1);
    this.#min = bounds.min;
    this.#max = bounds.max;
    this.#estimate = bounds.initial;
    this.#alpha = threshold('alpha', options.alpha, (l) => 3 * log10(l));
    this.#beta = threshold('beta', options.beta, (l) => 6 * log10(l));
    if (
      typeof options.alpha === 'number' &&
      typeof options.beta === 'number' &&
      options.beta < options.alpha
    ) {
      throw invalidOption('beta', `a number >= alpha (${options.alpha})`, options.beta);
    }
    this.#threshold = threshold('threshold', options.threshold, log10);
    this.#step = threshold('step', options.step, log10);
    this.#backoff = checkBackoffRatio(options.backoffRatio);
    this.#smoothing = checkNumber('smoothing', options.smoothing, 1, { above: 0, max: 1 });
    this.#probeMultiplier = checkNumber('probeMultiplier', options.probeMultiplier, 30, { above: 0 });
    this.#random = checkFunction('random', options.random, Math.random);
    this.#probeJitter = this.#jitter();
  }

  /** The current limit: the halved one while probing. */
  get limit(): number {
    return this.#probe === undefined ? Math.floor(this.#estimate) : this.#probe.limit;
  }

  /** True while the limit is halved to re-measure the no-load RTT. */
  get probing(): boolean {
    return this.#probe !== undefined;
  }

  /** The no-load RTT (the lowest since the last probe) in milliseconds; 0 before the first sample. */
  get rttNoLoadMs(): number {
    return this.#rttNoLoad;
  }

  /** Feeds one completed call and returns the (possibly unchanged) limit. */
  update(sample: LimitSample): number {
    const rtt = sample.rttMs;
    if (!(rtt >= 0) || !Number.isFinite(rtt)) {
      throw invalidOption('sample.rttMs', 'a finite number >= 0', rtt);
    }
    if (sample.dropped) {
      // A drop backs off at once. Its RTT is no latency sample: a call that failed fast would pass for no load.
      this.#move(this.#estimate * this.#backoff);
      return this.limit;
    }
    // A zero RTT (coarse clock) carries no latency signal.
    if (rtt === 0) return this.limit;
    if (this.#probe !== undefined) return this.#probing(rtt, sample.inFlight);
    if (++this.#sinceProbe >= this.#probeJitter * this.#probeMultiplier * this.#estimate) {
      this.#probe = {
        limit: Math.max(this.#min, Math.ceil(this.#estimate / 2)),
        minRtt: Infinity,
        seen: 0,
        waited: 0,
      };
      return this.limit;
    }
    if (this.#rttNoLoad === 0 || rtt < this.#rttNoLoad) {
      this.#rttNoLoad = rtt;
      return this.limit;
    }
    if (sample.inFlight * 2 < this.#estimate) return this.limit;

    const limit = this.limit;
    const queue = Math.ceil(this.#estimate * (1 - this.#rttNoLoad / rtt));
    let change = 0;
    if (queue <= this.#threshold(limit)) change = this.#beta(limit);
    else if (queue < this.#alpha(limit)) change = this.#step(limit);
    else if (queue > this.#beta(limit)) change = -this.#step(limit);
    // Vegas adjusts once a round trip, not once a call: each of a round's `limit` samples moves 1/limit of the way.
    if (change !== 0) this.#move(this.#estimate + change / this.#estimate);
    return this.limit;
  }

  /** One sample of a probe: the lowest RTT of calls admitted within the halved limit, over one round of them. */
  #probing(rtt: number, inFlight: number): number {
    const probe = this.#probe!;
    probe.waited++;
    if (inFlight <= probe.limit) {
      probe.seen++;
      probe.minRtt = Math.min(probe.minRtt, rtt);
    }
    // One round of calls admitted within the halved limit; or give up after four rounds of the old limit
    // (keeping the lowest RTT of those calls when any came, else the old no-load RTT).
    if (probe.seen >= probe.limit || probe.waited >= 4 * this.#estimate) {
      if (probe.minRtt < Infinity) this.#rttNoLoad = probe.minRtt;
      this.#probe = undefined;
      this.#sinceProbe = 0;
      this.#probeJitter = this.#jitter();
    }
    return this.limit;
  }

  #move(target: number): void {
    const next = this.#estimate * (1 - this.#smoothing) + target * this.#smoothing;
    this.#estimate = Math.max(this.#min, Math.min(this.#max, next));
  }

  /** A probe factor in [0.5, 1). */
  #jitter(): number {
    return 0.5 + 0.5 * this.#random();
  }
}
