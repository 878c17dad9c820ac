import { EventEmitter, type Event, type Subscription, invalidOption, reportError } from '@ballast/core';
import type { BreakerState, PolicyEvent, PolicyKind } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';
import { combine } from '../use/common.js';
import { observeBulkhead } from '../use/bulkhead.js';
import { type PolicyMetricsOptions, observePolicy } from './policy-metrics.js';

/**
 * A cockatiel 3 event, by its shape: subscribe with a listener, get something to `dispose()` back. No runtime or
 * type import of cockatiel: any policy with these members is accepted.
 */
export type CockatielEvent<T> = (listener: (data: T) => void) => { dispose(): void };

/** Why a cockatiel call failed: a thrown error, or a result its result filter marked as a failure. */
export interface CockatielFailureReason {
  readonly error?: unknown;
  readonly value?: unknown;
}

/**
 * What {@link fromCockatiel} reads from a cockatiel 3 policy (`circuitBreaker`, `retry`, `bulkhead`, `timeout`,
 * `fallback` or a `NoopPolicy`). Every cockatiel policy has `onSuccess`, `onFailure` and `execute`; the other
 * members say which kind it is.
 */
export interface CockatielPolicyLike {
  readonly onSuccess: CockatielEvent<{ readonly duration: number }>;
  readonly onFailure: CockatielEvent<{
    readonly duration: number;
    readonly handled: boolean;
    readonly reason: CockatielFailureReason;
  }>;
  /** Circuit breaker: `CircuitState` (0 closed, 1 open, 2 half-open, 3 isolated) after each change. */
  readonly onStateChange?: CockatielEvent<number>;
  /** Circuit breaker: its current `CircuitState`. */
  readonly state?: number;
  /** Retry: fired before each retry's backoff. */
  readonly onRetry?: CockatielEvent<
    CockatielFailureReason & { readonly delay: number; readonly attempt: number }
  >;
  /** Retry: fired when it stops retrying a failed call. */
  readonly onGiveUp?: CockatielEvent<CockatielFailureReason>;
  /** Bulkhead: fired when a call is refused. */
  readonly onReject?: CockatielEvent<void>;
  /** Bulkhead: free execution slots now. */
  readonly executionSlots?: number;
  /** Bulkhead: free queue slots now. */
  readonly queueSlots?: number;
  /** Timeout: fired when the timeout (or the caller's signal) aborts a call. */
  readonly onTimeout?: CockatielEvent<void>;
  /** Present on the result of cockatiel's `wrap()`, which cannot be observed as one policy. */
  readonly wrapped?: readonly unknown[];
  readonly execute: (...args: never[]) => PromiseLike<unknown>;
}

/**
 * A cockatiel policy seen through the `@ballast/resilience` policy contract, as {@link fromCockatiel} returns it:
 * anything that takes a Ballast policy (`observePolicy`, `logPolicyEvents`, your own listeners) takes it.
 */
export interface CockatielPolicyView {
  /** The name given to {@link fromCockatiel}: the `policy` label. */
  readonly name: string;
  /**
   * The kind read from the policy's members; `pipeline` for a policy with nothing but `onSuccess`/`onFailure`
   * (cockatiel's `NoopPolicy`): calls and durations only.
   */
  readonly kind: PolicyKind;
  /** Ballast policy events translated from the cockatiel events (subscribed to only while someone listens). */
  readonly onEvent: Event<PolicyEvent>;
  /** A circuit breaker's state in Ballast's words (`closed`, `open`, `half-open`, `isolated`). */
  readonly state: BreakerState | undefined;
  /** A bulkhead's calls running now (`undefined` when its capacity cannot be read). */
  readonly inFlight: number | undefined;
  /** A bulkhead's calls queued now (`undefined` when its queue capacity cannot be read). */
  readonly queued: number | undefined;
  /** A bulkhead's capacity (`undefined` when it cannot be read). */
  readonly limit: number | undefined;
}

/** Options for {@link observeCockatiel}. */
export interface CockatielObserveOptions extends PolicyMetricsOptions {
  /**
   * Count the calls an open or isolated cockatiel circuit breaker refuses. cockatiel 3 emits no event for them
   * (`execute` throws `BrokenCircuitError`), so the view wraps that breaker instance's `execute` while it is
   * observed: the wrapper calls the original and, when the promise rejects with a broken-circuit error, records
   * the rejection before passing the same error on. Disposing the subscription puts the original back. With
   * `false`, refused calls are not counted and no span event is added for them.
   * @default true
   * @example
   * ```ts
   * observeCockatiel(metrics, { payments: breaker }, { breakerRejections: false });
   * ```
   */
  readonly breakerRejections?: boolean;
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];
const views = new WeakMap<object, View>();

/**
 * A Ballast view of a cockatiel 3 policy: its events translated into the `@ballast/resilience` event contract,
 * so Ballast's metrics, span events and log subscriber work on it unchanged. The kind is read from the policy's
 * members: `onStateChange` a circuit breaker, `onRetry` a retry, `onReject` a bulkhead, `onTimeout` a timeout, a
 * fallback factory a fallback. The same policy always gives the same view (one name per policy; the first call's
 * `breakerRejections` applies).
 *
 * | cockatiel | Ballast event |
 * | --- | --- |
 * | `onSuccess({ duration })` | `success` (`durationMs`) |
 * | `onFailure({ duration, handled })` | `failure` (`counted` = `handled`); a fallback's handled failure is a `fallback` |
 * | `onStateChange(state)` (with `onBreak`, `onReset`, `onHalfOpen`) | `state-change` (`from`, `to`) |
 * | `execute` rejecting with `BrokenCircuitError` / `IsolatedCircuitError` | `rejected` (`circuit-open` / `circuit-isolated`) |
 * | `onRetry({ attempt, delay })` | `retry` (`attempt`, `delayMs`) |
 * | `onGiveUp`, an unhandled `onFailure` of a retry | `failure` |
 * | `onReject` | `rejected` (`bulkhead-full`) |
 * | `onTimeout` | `timeout` |
 *
 * A retry's outcome events carry `durationMs: NaN`: cockatiel times each attempt, not the call, and one attempt's
 * duration is not the call's (metrics skip it; time the policies inside the retry instead). A retry's handled
 * `onFailure` is an attempt that is retried or given up, not an outcome.
 *
 * @example
 * ```ts
 * import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
 * import { fromCockatiel, observePolicy } from '@ballast/telemetry';
 * const breaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) });
 * observePolicy(metrics, fromCockatiel('payments', breaker));
 * ```
 */
export function fromCockatiel(name: string, policy: CockatielPolicyLike): CockatielPolicyView {
  return viewOf(name, policy, true);
}

/**
 * Publishes cockatiel 3 policies' events into the same `ballast_*` series as Ballast's own policies (calls,
 * durations, rejections, breaker state and transitions, retries, timeouts, fallbacks; bulkhead in-flight, queued,
 * limit and utilization read at scrape time) and adds the same span events (`ballast.circuit_open`,
 * `ballast.rejected`, `ballast.retry`) to the active span. Keys of `policies` are the `policy` label values. The
 * Ballast dashboards, alerts and runbooks then work for a service that keeps its cockatiel code.
 * Observing a policy twice on one registry counts nothing twice. Recording never throws into the policy.
 *
 * @example
 * ```ts
 * import { bulkhead, circuitBreaker, ConsecutiveBreaker, handleAll, retry } from 'cockatiel';
 * import { createMetricsRegistry, observeCockatiel } from '@ballast/telemetry';
 * const metrics = createMetricsRegistry();
 * const sub = observeCockatiel(metrics, {
 *   'payment-breaker': circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
 *   'payment-retry': retry(handleAll, { maxAttempts: 2 }),
 *   inventory: bulkhead(10, 20),
 * });
 * // later: sub.dispose();
 * ```
 */
export function observeCockatiel(
  metrics: MetricsRegistry,
  policies: Readonly<Record<string, CockatielPolicyLike>>,
  options: CockatielObserveOptions = {},
): Subscription {
  if (typeof policies !== 'object' || policies === null) {
    throw invalidOption('policies', 'an object of cockatiel policies by name', policies);
  }
  const subs: Subscription[] = [];
  try {
    for (const [name, policy] of Object.entries(policies)) {
      const view = viewOf(name, policy, options.breakerRejections ?? true);
      const { limit, inFlight, queued } = view;
      subs.push(
        view.kind === 'bulkhead' && limit !== undefined && inFlight !== undefined && queued !== undefined
          ? observeBulkhead(metrics, view.gauges)
          : observePolicy(metrics, view, options),
      );
    }
  } catch (error) {
    for (const sub of subs) sub.dispose();
    throw error;
  }
  return combine(subs);
}

function bulkheadGauges(view: View) {
  return {
    name: view.name,
    kind: view.kind,
    onEvent: view.onEvent,
    get inFlight() {
      return view.inFlight ?? 0;
    },
    get queued() {
      return view.queued ?? 0;
    },
    get limit() {
      return view.limit ?? 0;
    },
  };
}

function viewOf(name: string, policy: CockatielPolicyLike, breakerRejections: boolean): View {
  if (typeof name !== 'string' || name === '') throw invalidOption('name', 'a non-empty string', name);
  if (typeof policy !== 'object' || policy === null || typeof policy.onSuccess !== 'function') {
    throw invalidOption(
      `policies.${name}`,
      'a cockatiel 3 policy (with `onSuccess` and `onFailure`)',
      policy,
    );
  }
  if (Array.isArray(policy.wrapped)) {
    throw invalidOption(
      `policies.${name}`,
      'a single cockatiel policy, not the result of `wrap()` (observe each wrapped policy under its own name)',
      `wrap() of ${policy.wrapped.length} policies`,
    );
  }
  const existing = views.get(policy);
  if (existing) {
    if (existing.name !== name) {
      throw invalidOption(
        `policies.${name}`,
        `a policy not observed under another name (it is observed as \`${existing.name}\`)`,
        name,
      );
    }
    return existing;
  }
  const view = new View(name, policy, breakerRejections);
  views.set(policy, view);
  return view;
}

function kindOf(policy: CockatielPolicyLike): PolicyKind {
  if (typeof policy.onStateChange === 'function') return 'circuit-breaker';
  if (typeof policy.onRetry === 'function') return 'retry';
  if (typeof policy.onReject === 'function') return 'bulkhead';
  if (typeof policy.onTimeout === 'function') return 'timeout';
  // cockatiel 3's FallbackPolicy keeps its fallback factory in `value`; nothing else marks it.
  if (typeof (policy as { value?: unknown }).value === 'function') return 'fallback';
  return 'pipeline';
}

function stateOf(value: unknown): BreakerState | undefined {
  return typeof value === 'number' ? STATES[value] : undefined;
}

function numberField(policy: object, field: string): number | undefined {
  const value = (policy as Record<string, unknown>)[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function reasonOf(reason: CockatielFailureReason | undefined): unknown {
  if (reason === undefined) return undefined;
  return 'error' in reason ? reason.error : reason.value;
}

class View implements CockatielPolicyView {
  readonly kind: PolicyKind;
  readonly #events = new EventEmitter<PolicyEvent>();
  #upstream: Subscription | undefined;
  #gauges: ReturnType<typeof bulkheadGauges> | undefined;
  readonly countRejections: boolean;

  constructor(
    readonly name: string,
    readonly policy: CockatielPolicyLike,
    countRejections: boolean,
  ) {
    this.kind = kindOf(policy);
    this.countRejections = countRejections;
  }

  readonly onEvent: Event<PolicyEvent> = (listener) => {
    const sub = this.#events.event(listener);
    if (this.#upstream === undefined) this.#upstream = this.#connect();
    let disposed = false;
    return {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        sub.dispose();
        if (!this.#events.hasListeners && this.#upstream !== undefined) {
          this.#upstream.dispose();
          this.#upstream = undefined;
        }
      },
    };
  };

  /** The bulkhead gauges as `observeBulkhead` reads them (one object, so observing twice counts nothing twice). */
  get gauges(): ReturnType<typeof bulkheadGauges> {
    return (this.#gauges ??= bulkheadGauges(this));
  }

  get state(): BreakerState | undefined {
    return this.kind === 'circuit-breaker' ? stateOf(this.policy.state) : undefined;
  }

  get limit(): number | undefined {
    return this.kind === 'bulkhead' ? numberField(this.policy, 'capacity') : undefined;
  }

  get inFlight(): number | undefined {
    const limit = this.limit;
    const free = this.policy.executionSlots;
    return limit !== undefined && typeof free === 'number' ? Math.max(0, limit - free) : undefined;
  }

  get queued(): number | undefined {
    const capacity = this.kind === 'bulkhead' ? numberField(this.policy, 'queueCapacity') : undefined;
    const free = this.policy.queueSlots;
    return capacity !== undefined && typeof free === 'number' ? Math.max(0, capacity - free) : undefined;
  }

  #emit(event: PolicyEvent): void {
    this.#events.emit(event);
  }

  #connect(): Subscription {
    const p = this.policy;
    const policy = this.name;
    const subs: Subscription[] = [];
    const on = <T>(event: CockatielEvent<T> | undefined, listener: (data: T) => void): void => {
      if (typeof event !== 'function') return;
      subs.push(
        event((data) => {
          try {
            listener(data);
          } catch (error) {
            reportError(error, `translating a cockatiel ${this.kind} event`);
          }
        }),
      );
    };
    switch (this.kind) {
      case 'retry': {
        const kind = 'retry';
        on(p.onSuccess, () => this.#emit({ policy, kind, type: 'success', durationMs: NaN }));
        on(p.onFailure, (f) => {
          if (!f.handled) {
            this.#emit({
              policy,
              kind,
              type: 'failure',
              durationMs: NaN,
              error: reasonOf(f.reason),
              counted: false,
            });
          }
        });
        on(p.onGiveUp, (r) =>
          this.#emit({ policy, kind, type: 'failure', durationMs: NaN, error: reasonOf(r), counted: true }),
        );
        on(p.onRetry, (r) =>
          this.#emit({
            policy,
            kind,
            type: 'retry',
            attempt: r.attempt,
            delayMs: r.delay,
            error: reasonOf(r),
          }),
        );
        break;
      }
      case 'fallback': {
        const kind = 'fallback';
        on(p.onSuccess, (s) => this.#emit({ policy, kind, type: 'success', durationMs: s.duration }));
        on(p.onFailure, (f) =>
          this.#emit(
            f.handled
              ? { policy, kind, type: 'fallback', error: reasonOf(f.reason) }
              : {
                  policy,
                  kind,
                  type: 'failure',
                  durationMs: f.duration,
                  error: reasonOf(f.reason),
                  counted: false,
                },
          ),
        );
        break;
      }
      default: {
        const kind = this.kind;
        on(p.onSuccess, (s) => this.#emit({ policy, kind, type: 'success', durationMs: s.duration }));
        on(p.onFailure, (f) =>
          this.#emit({
            policy,
            kind,
            type: 'failure',
            durationMs: f.duration,
            error: reasonOf(f.reason),
            counted: f.handled,
          }),
        );
      }
    }
    if (this.kind === 'circuit-breaker') {
      let from = stateOf(p.state) ?? 'closed';
      on(p.onStateChange, (s) => {
        const to = stateOf(s);
        if (to === undefined || to === from) return;
        const event: PolicyEvent = { policy, kind: 'circuit-breaker', type: 'state-change', from, to };
        from = to;
        this.#emit(event);
      });
      if (this.countRejections) subs.push(this.#wrapExecute());
    }
    if (this.kind === 'bulkhead') {
      on(p.onReject, () =>
        this.#emit({ policy, kind: 'bulkhead', type: 'rejected', reason: 'bulkhead-full' }),
      );
    }
    if (this.kind === 'timeout') {
      const timeoutMs = numberField(p, 'duration') ?? NaN;
      on(p.onTimeout, () => this.#emit({ policy, kind: 'timeout', type: 'timeout', timeoutMs }));
    }
    return combine(subs);
  }

  /** Wraps this breaker's `execute` to see the calls it refuses (cockatiel emits no event for them). */
  #wrapExecute(): Subscription {
    const target = this.policy as unknown as { execute: (...args: unknown[]) => PromiseLike<unknown> };
    const own = Object.prototype.hasOwnProperty.call(target, 'execute');
    const original = target.execute;
    let active = true;
    const refused = (error: unknown): never => {
      if (active && error instanceof Error && 'isBrokenCircuitError' in error) {
        try {
          this.#emit({
            policy: this.name,
            kind: 'circuit-breaker',
            type: 'rejected',
            reason: 'isIsolatedCircuitError' in error ? 'circuit-isolated' : 'circuit-open',
          });
        } catch (reported) {
          reportError(reported, 'recording a cockatiel circuit breaker rejection');
        }
      }
      throw error;
    };
    const execute = function (this: unknown, ...args: unknown[]): PromiseLike<unknown> {
      const result = original.apply(this, args);
      return active ? result.then(undefined, refused) : result;
    };
    try {
      target.execute = execute;
    } catch (error) {
      reportError(
        error,
        `wrapping cockatiel breaker ${this.name}'s execute (its refused calls are not counted)`,
      );
      return { dispose() {} };
    }
    return {
      dispose: () => {
        active = false;
        if (target.execute !== execute) return; // someone wrapped it after us: leave theirs, ours passes through
        if (own) target.execute = original;
        else delete (target as { execute?: unknown }).execute;
      },
    };
  }
}
