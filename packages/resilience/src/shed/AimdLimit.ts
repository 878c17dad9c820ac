import { checkNumber } from '@ballast/core';
import type { LimitAlgorithm, LimitBoundsOptions, LimitSample } from './LimitAlgorithm.js';
import { checkBackoffRatio, checkBounds } from './limitOptions.js';

/** Options for {@link AimdLimit}. */
export interface AimdOptions extends LimitBoundsOptions {
  /** Factor the limit is multiplied by on a drop, in [0.5, 1). @default 0.9 */
  readonly backoffRatio?: number;
  /** A call slower than this counts as a drop, in milliseconds. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Loss-based limit (additive increase, multiplicative decrease), after Netflix concurrency-limits' `AIMDLimit`:
 *
 * ```text
 * dropped or rttMs > timeoutMs   ->  limit = floor(limit * backoffRatio)
 * else inFlight * 2 >= limit     ->  limit = limit + 1        // only grow when the limit is actually used
 * limit = clamp(limit, minLimit, maxLimit)
 * ```
 *
 * Choose it when latency says little about overload (a dependency that fails fast with 503 when saturated).
 *
 * @example
 * ```ts
 * import { AimdLimit, ConcurrencyLimiter } from '@ballast/resilience';
 * const limiter = new ConcurrencyLimiter({ algorithm: new AimdLimit({ initialLimit: 10, timeoutMs: 1000 }) });
 * ```
 */
export class AimdLimit implements LimitAlgorithm {
  readonly #min: number;
  readonly #max: number;
  readonly #backoff: number;
  readonly #timeoutMs: number;
  #limit: number;

  constructor(options: AimdOptions = {}) {
    const bounds = checkBounds(options, 1);
    this.#min = bounds.min;
    this.#max = bounds.max;
    this.#limit = bounds.initial;
    this.#backoff = checkBackoffRatio(options.backoffRatio);
    this.#timeoutMs = checkNumber('timeoutMs', options.timeoutMs, 5000, { above: 0 });
  }

  get limit(): number {
    return this.#limit;
  }

  update(sample: LimitSample): number {
    let next = this.#limit;
    if (sample.dropped || sample.rttMs > this.#timeoutMs) next = Math.floor(next * this.#backoff);
    else if (sample.inFlight * 2 >= next) next += 1;
    this.#limit = Math.max(this.#min, Math.min(this.#max, next));
    return this.#limit;
  }
}
