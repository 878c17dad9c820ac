import { type Clock, checkFunction, invalidOption } from '@ballast/core';
import type { CallContext } from '../common/CallContext.js';
import { PolicyBase } from '../common/PolicyBase.js';
import { type Gate, type Runner, type Step, fuse, toStep } from '../common/compose.js';
import { isRejectedError } from '../common/rejection.js';
import { isTimeoutError } from '../timeout/TimeoutError.js';

/** Options for {@link FallbackPolicy}. */
export interface FallbackOptions<F> {
  /** Name used in events and metrics. @default 'fallback' */
  readonly name?: string;
  /** Produces the degraded result from the error (required). */
  readonly fallback: (error: unknown, context: CallContext) => F | PromiseLike<F>;
  /**
   * Which errors to replace with the fallback.
   * @default refusals and timeouts: open or isolated circuit, full bulkhead, shed, rate limited, timeout, deadline
   */
  readonly handles?: (error: unknown) => boolean;
  /** Source of time for event durations. @default systemClock */
  readonly clock?: Clock;
}

/**
 * The default {@link FallbackOptions.handles}: the call was refused (open circuit, full bulkhead, shed, rate
 * limited, deadline spent) or timed out.
 *
 * @example
 * ```ts
 * import { FallbackPolicy, isDegradable } from '@ballast/resilience';
 * const fallback = new FallbackPolicy({ fallback: () => [], handles: (e) => isDegradable(e) || isNotFound(e) });
 * ```
 */
export function isDegradable(error: unknown): boolean {
  return isRejectedError(error) || isTimeoutError(error);
}

/**
 * Serves a degraded result instead of an error: a cached value, a default, an empty list. By default it handles
 * refusals and timeouts, not arbitrary errors, so bugs still surface. The result type is `T | F`.
 *
 * @example
 * ```ts
 * import { FallbackPolicy } from '@ballast/resilience';
 * const fallback = new FallbackPolicy({ fallback: () => ({ items: [], degraded: true as const }) });
 * const recs = await fallback.execute(() => recommendations.get(user));
 * ```
 */
export class FallbackPolicy<F> extends PolicyBase<F> {
  readonly kind = 'fallback' as const;
  readonly #fallback: (error: unknown, context: CallContext) => F | PromiseLike<F>;
  readonly #handles: (error: unknown) => boolean;

  constructor(options: FallbackOptions<F>) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption('options', 'an object with `fallback`', options);
    }
    super(options.name ?? 'fallback', options.clock);
    if (typeof options.fallback !== 'function')
      throw invalidOption('fallback', 'a function', options.fallback);
    this.#fallback = options.fallback;
    this.#handles = checkFunction('handles', options.handles, isDegradable);
  }

  /** @internal */
  override [toStep](): Step {
    return { wrap: this.#wrap };
  }

  readonly #wrap = (innermost: Runner, gates: readonly Gate[]): Runner => {
    const inner = fuse(gates, innermost);
    return async (call, fn) => {
      const start = this.events.hasListeners ? this.clock.now() : 0;
      try {
        const result = await inner(call, fn);
        if (this.events.hasListeners) {
          this.emitOutcome(this.clock.now() - start, undefined, false);
        }
        return result;
      } catch (error) {
        if (!this.#handles(error)) {
          if (this.events.hasListeners) {
            this.emitOutcome(this.clock.now() - start, error, true);
          }
          throw error;
        }
        if (this.events.hasListeners)
          this.events.emit({ policy: this.name, kind: this.kind, type: 'fallback', error });
        return this.#fallback(error, call);
      }
    };
  };
}
