import { type Clock, checkFunction, checkNumber, invalidOption, reportError } from '@ballast/core';
import type { Breaker } from './Breaker.js';
import { BreakerMachine, type BreakerMachineSnapshot, ISOLATED, OPEN } from './BreakerMachine.js';
import { ConsecutiveBreaker } from './ConsecutiveBreaker.js';
import { fastClock } from '../common/CoarseClock.js';
import { PolicyBase } from '../common/PolicyBase.js';
import { type Gate, type Step, toStep } from '../common/compose.js';
import { BrokenCircuitError } from './BrokenCircuitError.js';
import type { BreakerState } from '@ballast/core';

/** Options for {@link CircuitBreakerPolicy}. */
export interface CircuitBreakerOptions {
  /** Name used in events, errors and metrics. @default 'circuit-breaker' */
  readonly name?: string;
  /** Decides when the closed circuit opens. @default new ConsecutiveBreaker({ threshold: 5 }) */
  readonly breaker?: Breaker;
  /** Milliseconds the circuit stays open before letting probes through. @default 10000 */
  readonly halfOpenAfterMs?: number;
  /** Probe calls admitted while half-open; more calls are refused with reason `half-open-full`. @default 1 */
  readonly halfOpenProbes?: number;
  /** Successful probes that close the circuit (at most `halfOpenProbes`). @default halfOpenProbes */
  readonly successThreshold?: number;
  /**
   * Exponential half-open backoff: each failed half-open episode multiplies the open time by `multiplier`, up to
   * `maxMs`; closing resets it. @default undefined (constant open time)
   */
  readonly halfOpenBackoff?: { readonly multiplier?: number; readonly maxMs?: number };
  /**
   * Calls that take at least this long count as slow (slow-call rate, as resilience4j does; for the consecutive
   * breaker a slow call counts as a failed one). @default Infinity (off)
   */
  readonly slowCallDurationMs?: number;
  /**
   * Which errors count as failures. Errors it rejects count as successful calls (the dependency answered: a 404
   * proves it is up). See {@link httpFailure} for "5xx and timeouts count, 4xx do not". @default every error
   */
  readonly isFailure?: (error: unknown) => boolean;
  /** Source of time. @default systemClock */
  readonly clock?: Clock;
  /** State to start from, as returned by {@link CircuitBreakerPolicy.toJSON}. @default undefined */
  readonly state?: CircuitBreakerSnapshot;
}

/** A circuit breaker's state as JSON-safe data, for carrying it across restarts. */
export interface CircuitBreakerSnapshot extends BreakerMachineSnapshot {
  readonly name: string;
}

const countAll = (): boolean => true;

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; statusCode?: unknown; response?: { status?: unknown } };
  const status = e.status ?? e.statusCode ?? e.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * A failure predicate for HTTP dependencies: 5xx, 408 and 429 count, other 4xx do not (the dependency is up, the
 * request was wrong), and errors without an HTTP status (timeouts, connection resets) count. The status is read
 * from `status`, `statusCode` or `response.status`.
 *
 * @example
 * ```ts
 * import { CircuitBreakerPolicy, httpFailure } from '@ballast/resilience';
 * const breaker = new CircuitBreakerPolicy({ isFailure: httpFailure });
 * ```
 */
export function httpFailure(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return true;
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Stops calling a dependency that keeps failing, then probes it before trusting it again.
 *
 * States: `closed` (calls flow; the {@link Breaker} watches outcomes), `open` (calls are refused with a
 * {@link BrokenCircuitError} for `halfOpenAfterMs`), `half-open` (up to `halfOpenProbes` calls go through; after
 * `successThreshold` successes it closes, any failure reopens it, for longer when `halfOpenBackoff` is set) and
 * `isolated` (opened by hand with {@link CircuitBreakerPolicy.isolate}). {@link CircuitBreakerPolicy.state} is
 * computed on read, so an open circuit whose time is up reads `half-open` without waiting for a timer.
 *
 * The state machine is pure and takes the time from the injected `clock`.
 *
 * @example
 * ```ts
 * import { CircuitBreakerPolicy, CountWindowBreaker, httpFailure } from '@ballast/resilience';
 * const breaker = new CircuitBreakerPolicy({
 *   name: 'inventory',
 *   breaker: new CountWindowBreaker({ size: 100, failureRateThreshold: 0.5, minimumCalls: 20 }),
 *   halfOpenAfterMs: 5_000,
 *   isFailure: httpFailure,
 * });
 * const stock = await breaker.execute(({ signal }) => inventory.get(sku, { signal }));
 * ```
 */
export class CircuitBreakerPolicy extends PolicyBase {
  readonly kind = 'circuit-breaker' as const;
  readonly #machine: BreakerMachine;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #slowMs: number;
  readonly #timed: boolean;
  /** Coarse clock for the state machine; `clock` itself for durations. */
  readonly #fast: Clock;

  constructor(options: CircuitBreakerOptions = {}) {
    super(options.name ?? 'circuit-breaker', options.clock);
    this.#fast = fastClock(this.clock);
    const breaker = options.breaker ?? new ConsecutiveBreaker();
    if (typeof breaker !== 'object' || breaker === null || typeof breaker.record !== 'function') {
      throw invalidOption('breaker', 'a Breaker (e.g. new ConsecutiveBreaker())', breaker);
    }
    const halfOpenAfterMs = checkNumber('halfOpenAfterMs', options.halfOpenAfterMs, 10_000, { min: 0 });
    const probes = checkNumber('halfOpenProbes', options.halfOpenProbes, 1, { integer: true, min: 1 });
    const successThreshold = checkNumber('successThreshold', options.successThreshold, probes, {
      integer: true,
      min: 1,
      max: probes,
    });
    const backoff = options.halfOpenBackoff;
    const multiplier = backoff
      ? checkNumber('halfOpenBackoff.multiplier', backoff.multiplier, 2, { min: 1 })
      : 1;
    const maxMs = backoff
      ? checkNumber('halfOpenBackoff.maxMs', backoff.maxMs, Math.max(halfOpenAfterMs, 300_000), {
          min: halfOpenAfterMs,
        })
      : halfOpenAfterMs;
    this.#slowMs = checkNumber('slowCallDurationMs', options.slowCallDurationMs, Infinity, { above: 0 });
    this.#isFailure = checkFunction('isFailure', options.isFailure, countAll);
    this.#machine = new BreakerMachine(breaker, {
      halfOpenAfterMs,
      probes,
      successThreshold,
      backoffMultiplier: multiplier,
      maxHalfOpenAfterMs: maxMs,
    });
    this.#timed = this.#slowMs !== Infinity;
    this.#machine.onTransition = (from, to) => {
      if (this.events.hasListeners) {
        this.events.emit({ policy: this.name, kind: 'circuit-breaker', type: 'state-change', from, to });
      }
    };
    if (options.state) this.hydrate(options.state);
  }

  /** The breaker deciding when to open. */
  get breaker(): Breaker {
    return this.#machine.breaker;
  }

  /** The current state, computed now (never a stale `open` once the open time has passed). */
  get state(): BreakerState {
    return this.#machine.state(this.#fast.now());
  }

  /** Milliseconds until an open circuit lets a probe through (0 when it is not open). */
  get retryAfterMs(): number {
    return this.#machine.retryAfterMs(this.#fast.now());
  }

  /**
   * Opens the circuit by hand: every call is refused (reason `circuit-isolated`) until {@link reset}.
   *
   * @example
   * ```ts
   * breaker.isolate(); // during a dependency's maintenance window
   * ```
   */
  isolate(): void {
    this.#machine.isolate();
  }

  /** Closes the circuit and forgets recorded calls and backoff. */
  reset(): void {
    this.#machine.reset();
  }

  /**
   * The state as JSON-safe data; pass it back as the `state` option (or to {@link hydrate}) after a restart.
   *
   * @example
   * ```ts
   * await fs.writeFile('breaker.json', JSON.stringify(breaker));
   * ```
   */
  toJSON(): CircuitBreakerSnapshot {
    return { name: this.name, ...this.#machine.toJSON() };
  }

  /** Restores state saved with {@link toJSON}; throws a `TypeError` when the data does not fit this breaker. */
  hydrate(snapshot: CircuitBreakerSnapshot): void {
    const s = snapshot as Partial<CircuitBreakerSnapshot> | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      !['closed', 'open', 'half-open', 'isolated'].includes(s.state as string) ||
      typeof s.openedAt !== 'number' ||
      typeof s.openMs !== 'number'
    ) {
      throw invalidOption('state', 'a snapshot from CircuitBreakerPolicy.toJSON()', snapshot);
    }
    this.#machine.hydrate(snapshot);
  }

  /** @internal */
  override [toStep](): Step {
    return { gate: this.#gate };
  }

  readonly #gate: Gate = {
    enter: () => {
      const token = this.#machine.acquire(this.#fast.now());
      if (token < 0) throw this.#refuse(token);
      return this.#timed || this.events.hasListeners ? new Timed(token, this.clock.now()) : token;
    },
    leave: (admitted, _call, error, failed) => {
      let token: number;
      let durationMs = 0;
      if (admitted instanceof Timed) {
        token = admitted.token;
        durationMs = this.clock.now() - admitted.start;
      } else {
        token = admitted as number;
      }
      const counted = failed && this.#counts(error);
      if (this.events.hasListeners) {
        this.emitOutcome(durationMs, error, failed, counted);
      }
      this.#machine.complete(token, counted, durationMs >= this.#slowMs, this.#fast.now());
      return error;
    },
  };

  #counts(error: unknown): boolean {
    try {
      return this.#isFailure(error);
    } catch (thrown) {
      reportError(thrown, `circuit breaker "${this.name}": isFailure threw; counting the call as failed`);
      return true;
    }
  }

  #refuse(code: number): BrokenCircuitError {
    const reason = code === OPEN ? 'circuit-open' : code === ISOLATED ? 'circuit-isolated' : 'half-open-full';
    if (this.events.hasListeners) {
      this.events.emit({ policy: this.name, kind: this.kind, type: 'rejected', reason });
    }
    return new BrokenCircuitError(
      this.name,
      reason,
      code === ISOLATED ? undefined : this.#machine.retryAfterMs(this.#fast.now()),
    );
  }
}

/** Gate token when a duration is needed: the machine's token plus the start time. */
class Timed {
  constructor(
    readonly token: number,
    readonly start: number,
  ) {}
}
