import { type Clock, systemClock } from '@ballast/core';
import type { Policy, PolicyKind } from '@ballast/core';
import { EventedPolicy } from './EventedPolicy.js';
import type { ExecuteOptions, Operation } from './CallContext.js';
import { type Composable, type Runner, type Step, compile, run, toStep } from './compose.js';

/**
 * What every Ballast policy shares: a `name`, a `clock`, one event stream, and `execute` (the policy run alone, as
 * a one-step pipeline). `R` is what the policy may return instead of the operation's result (fallback, chaos).
 */
export abstract class PolicyBase<R = never> extends EventedPolicy implements Policy, Composable {
  abstract override readonly kind: PolicyKind;
  /** Source of time for this policy. */
  readonly clock: Clock;
  #runner: Runner | undefined;
  /**
   * Type-level only (never set at run time): what the policy may return instead of the operation's result, boxed
   * so that it reads the same with or without `exactOptionalPropertyTypes` (an optional `R` would widen to
   * `R | undefined` and every pipeline result with it). Read it with `ExtraResult`.
   */
  declare readonly fallbackResult?: { readonly type: R };

  constructor(name: string, clock: Clock | undefined) {
    super(name);
    this.clock = clock ?? systemClock;
  }

  /**
   * Runs `fn` through this policy alone.
   *
   * @example
   * ```ts
   * const result = await policy.execute(({ signal, deadline, attempt }) => work(signal));
   * ```
   */
  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T | R> {
    return run((this.#runner ??= compile([this[toStep]()])), fn, options);
  }

  /** @internal How this policy takes part in a pipeline. */
  abstract [toStep](): Step;
}
