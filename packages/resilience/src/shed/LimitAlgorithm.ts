/**
 * One completed call, as an adaptive limit algorithm sees it.
 */
export interface LimitSample {
  /** How long the call held its permit, in milliseconds of the limiter's clock. */
  readonly rttMs: number;
  /** Calls in flight when this call was admitted (itself included). */
  readonly inFlight: number;
  /** True when the call was dropped: it failed with an overload signal (e.g. a 503 or a timeout). */
  readonly dropped: boolean;
}

/**
 * An adaptive concurrency limit algorithm: a small state machine fed one {@link LimitSample} per completed call,
 * answering the new limit. Implementations are pure (no clock, no timers), so they are tested with plain numbers.
 * Ballast ships {@link Gradient2Limit} (latency gradient), {@link VegasLimit} (estimated queue, after TCP Vegas) and
 * {@link AimdLimit} (loss based).
 *
 * @example
 * ```ts
 * import { AimdLimit } from '@ballast/resilience';
 * const algorithm = new AimdLimit({ initialLimit: 10 });
 * algorithm.update({ rttMs: 12, inFlight: 8, dropped: false }); // 11
 * ```
 */
export interface LimitAlgorithm {
  /** The current concurrency limit (an integer >= 1). */
  readonly limit: number;
  /** Feeds one sample and returns the (possibly unchanged) limit. */
  update(sample: LimitSample): number;
}

/** Bounds every algorithm shares. */
export interface LimitBoundsOptions {
  /** Limit before any sample was seen. @default 20 */
  readonly initialLimit?: number;
  /** The limit never goes below this. @default 20 for Gradient2 (as Netflix), 1 for AIMD and Vegas */
  readonly minLimit?: number;
  /** The limit never goes above this. @default 200 */
  readonly maxLimit?: number;
}
