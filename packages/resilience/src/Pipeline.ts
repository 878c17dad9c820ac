import { type Clock, invalidOption } from '@ballast/core';
import type { ExecuteOptions, Operation } from './common/CallContext.js';
import { type Composable, type Step, compile, fuse, toStep } from './common/compose.js';
import { PolicyBase } from './common/PolicyBase.js';
import type { Policy } from '@ballast/core';

/** A policy that can go in a {@link pipeline}: every Ballast resilience policy, and pipelines themselves. */
export type PipelinePolicy = Policy & Composable;

/**
 * The extra result types a pipeline's policies can return instead of the operation's (fallbacks, chaos): `never`
 * for the others, so `pipeline(retry, timeout).execute(async () => 42)` is a `Promise<number>` whatever the
 * compiler options.
 *
 * @example
 * ```ts
 * import type { ExtraResult, FallbackPolicy } from '@ballast/resilience';
 * type Served = ExtraResult<FallbackPolicy<'cached'>>; // 'cached'
 * ```
 */
export type ExtraResult<P> = P extends { readonly fallbackResult?: { readonly type: infer F } } ? F : never;

/** Options for {@link Pipeline}. */
export interface PipelineOptions {
  /** Name used in events. @default the policies' names joined with '>' */
  readonly name?: string;
  /** Source of time for event durations. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Policies composed into one: the first policy is the outermost. See {@link pipeline}.
 *
 * @example
 * ```ts
 * import { Pipeline } from '@ballast/resilience';
 * const inventory = new Pipeline([retry, breaker, bulkhead, timeout], { name: 'inventory' });
 * ```
 */
export class Pipeline<R = never> extends PolicyBase<R> {
  readonly kind = 'pipeline' as const;
  /** The composed policies, outermost first (nested pipelines flattened). */
  readonly policies: readonly PipelinePolicy[];
  readonly #steps: readonly Step[];

  constructor(policies: readonly PipelinePolicy[], options: PipelineOptions = {}) {
    const flat: PipelinePolicy[] = [];
    for (const [i, policy] of policies.entries()) {
      if (typeof policy !== 'object' || policy === null || typeof policy[toStep] !== 'function') {
        throw invalidOption(`policies[${i}]`, 'a Ballast resilience policy', policy);
      }
      if (policy instanceof Pipeline) flat.push(...(policy.policies as PipelinePolicy[]));
      else flat.push(policy);
    }
    super(options.name ?? (flat.map((p) => p.name).join('>') || 'pipeline'), options.clock);
    this.policies = flat;
    this.#steps = flat.map((p) => p[toStep]());
  }

  /**
   * Runs `fn` through every policy. The result type includes what fallbacks and chaos policies may return.
   *
   * @example
   * ```ts
   * const stock = await inventory.execute(({ signal }) => client.stock(sku, { signal }));
   * ```
   */
  override execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T | R> {
    return this.events.hasListeners ? this.#executeTimed(fn, options) : super.execute(fn, options);
  }

  async #executeTimed<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T | R> {
    const start = this.clock.now();
    try {
      const result = await super.execute(fn, options);
      this.emitOutcome(this.clock.now() - start, undefined, false);
      return result;
    } catch (error) {
      this.emitOutcome(this.clock.now() - start, error, true);
      throw error;
    }
  }

  /** @internal */
  override [toStep](): Step {
    return { wrap: (inner, gates) => compile([...this.#steps, { wrap: () => fuse(gates, inner) }]) };
  }
}

/**
 * Composes policies into one, **outermost first**. The recommended order, and why:
 *
 * `fallback → retry → circuit breaker → bulkhead → timeout → chaos → operation`
 *
 * - fallback outermost, so it sees the final outcome after retries (and serves a degraded answer once, not per try);
 * - retry outside the breaker, so each attempt asks the breaker afresh and an open circuit stops retries at once
 *   (a `BrokenCircuitError` is not retryable);
 * - breaker outside the bulkhead, so a refused bulkhead slot counts as a failure signal and an open circuit does not
 *   occupy a slot;
 * - bulkhead outside the timeout, so the timeout measures the call, not the queue wait (the queue has its own limit);
 * - the timeout per attempt, innermost but for chaos, so a fresh attempt gets a fresh limit while the request
 *   deadline still bounds them all.
 *
 * The result is fully typed: `execute` returns `Promise<T | F>` where `F` unions the fallback results.
 *
 * @example
 * ```ts
 * import { pipeline } from '@ballast/resilience';
 * const inventory = pipeline(fallback, retry, breaker, bulkhead, timeout);
 * const stock = await inventory.execute(({ signal }) => client.stock(sku, { signal }));
 * ```
 */
export function pipeline<const P extends readonly PipelinePolicy[]>(
  ...policies: P
): Pipeline<ExtraResult<P[number]>> {
  return new Pipeline<ExtraResult<P[number]>>(policies);
}
