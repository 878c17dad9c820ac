import { type Clock, checkNumber, checkOneOf, invalidOption } from '@ballast/core';
import type { Call } from '../common/CallContext.js';
import { fastClock } from '../common/CoarseClock.js';
import { PolicyBase } from '../common/PolicyBase.js';
import { wheelFor } from '../common/TimerWheel.js';
import { type Gate, type Runner, type Step, fuse, toStep } from '../common/compose.js';
import { DeadlineExceededError, isDeadlineExceededError } from '../deadline/DeadlineExceededError.js';
import { TimeoutError, isTimeoutError } from './TimeoutError.js';

/**
 * How a timeout is enforced.
 * - `cooperative`: the call gets a `signal` that aborts at the deadline and is trusted to stop; the policy never
 *   abandons it. An error thrown after the deadline becomes a `TimeoutError`. No timer at all unless the signal is
 *   read.
 * - `aggressive`: the policy rejects with a `TimeoutError` at the deadline even if the call is still running (the
 *   signal aborts too). Costs one entry in the shared timer wheel per call.
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options for {@link TimeoutPolicy}. */
export interface TimeoutOptions {
  /** Name used in events, errors and metrics. @default 'timeout' */
  readonly name?: string;
  /** The time limit for one call, in milliseconds (required). */
  readonly timeoutMs: number;
  /** @default 'cooperative' */
  readonly strategy?: TimeoutStrategy;
  /** Source of time. With the system clock, deadlines use a 1 ms coarse clock. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Limits how long a call may take, and tightens the call's deadline so that everything nested inside sees the
 * smaller budget. A call whose inherited deadline has already passed is refused (a `DeadlineExceededError`,
 * reason `deadline-exceeded`) without running.
 *
 * Cost: no timer and no `AbortController` per call. The deadline is a number read from a coarse clock; the
 * `AbortController` is created only when the call reads `ctx.signal`, and its timer is an entry in one shared
 * timer wheel.
 *
 * @example
 * ```ts
 * import { TimeoutPolicy } from '@ballast/resilience';
 * const timeout = new TimeoutPolicy({ timeoutMs: 500 });
 * const body = await timeout.execute(({ signal }) => fetch(url, { signal }).then((r) => r.text()));
 * ```
 */
export class TimeoutPolicy extends PolicyBase {
  readonly kind = 'timeout' as const;
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
  readonly #fast: Clock;

  constructor(options: TimeoutOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption('options', 'an object with `timeoutMs`', options);
    }
    super(options.name ?? 'timeout', options.clock);
    if (options.timeoutMs === undefined) throw invalidOption('timeoutMs', 'a finite number > 0', undefined);
    this.timeoutMs = checkNumber('timeoutMs', options.timeoutMs, 0, { above: 0 });
    this.strategy = checkOneOf(
      'strategy',
      options.strategy,
      ['cooperative', 'aggressive'] as const,
      'cooperative',
    );
    this.#fast = fastClock(this.clock);
  }

  /** @internal */
  override [toStep](): Step {
    return this.strategy === 'cooperative' ? { gate: this.#gate } : { wrap: this.#wrap };
  }

  /** Tightens the call's deadline; returns the deadline (in ms) it replaced, to restore after the call. */
  #enter(call: Call): number {
    const parentAt = call.deadlineAt;
    const now = this.#fast.now();
    if (parentAt <= now) {
      if (this.events.hasListeners) {
        this.events.emit({
          policy: this.name,
          kind: this.kind,
          type: 'rejected',
          reason: 'deadline-exceeded',
        });
      }
      throw new DeadlineExceededError(this.name, now - parentAt);
    }
    const at = now + this.timeoutMs;
    if (at < parentAt) {
      call.deadlineAt = at;
      call.clock = this.#fast;
    }
    return parentAt;
  }

  /** The error for a call whose deadline `at` passed: a timeout when it was ours, else the caller's deadline. */
  #late(at: number, parentAt: number, cause: unknown): Error {
    if (this.events.hasListeners) {
      this.events.emit({ policy: this.name, kind: this.kind, type: 'timeout', timeoutMs: this.timeoutMs });
    }
    const overrun = Math.max(0, this.#fast.now() - at);
    return at !== parentAt
      ? new TimeoutError(this.name, this.timeoutMs, { cause })
      : new DeadlineExceededError(this.name, overrun, { cause });
  }

  #emitOutcome(start: number, error: unknown, failed: boolean): void {
    const durationMs = this.#fast.now() - start;
    this.emitOutcome(durationMs, error, failed);
  }

  readonly #gate: Gate = {
    enter: (call: Call) => {
      const parentAt = this.#enter(call);
      return this.events.hasListeners ? new Timed(parentAt, this.#fast.now()) : parentAt;
    },
    leave: (token, call, error, failed) => {
      const timed = token instanceof Timed ? token : undefined;
      const parentAt = timed ? timed.parentAt : (token as number);
      const at = call.deadlineAt;
      call.restoreDeadline(parentAt);
      if (timed && this.events.hasListeners) this.#emitOutcome(timed.start, error, failed);
      if (!failed || isTimeoutError(error) || this.#fast.now() < at) return error;
      // Our own limit passed: whatever the call threw (typically the abort reason) becomes a TimeoutError. The
      // caller's deadline passed: it becomes a DeadlineExceededError, unless it already is one.
      if (at === parentAt && isDeadlineExceededError(error)) return error;
      return this.#late(at, parentAt, error);
    },
  };

  readonly #wrap = (inner: Runner, gates: readonly Gate[]): Runner => {
    const next = fuse(gates, inner);
    return (call, fn) => {
      const parentAt = this.#enter(call);
      const at = call.deadlineAt;
      const start = this.#fast.now();
      return new Promise((resolve, reject) => {
        let settled = false;
        const finish = (): boolean => {
          if (settled) return false;
          settled = true;
          wheelFor(this.#fast).cancel(entry);
          if (call.deadlineAt === at) call.restoreDeadline(parentAt);
          return true;
        };
        const entry = wheelFor(this.#fast).schedule(at, () => {
          if (!finish()) return;
          const error = this.#late(at, parentAt, undefined);
          if (this.events.hasListeners) this.#emitOutcome(start, error, true);
          reject(error);
        });
        let pending: unknown;
        try {
          pending = next(call, fn);
        } catch (error) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, unchanged
          pending = Promise.reject(error);
        }
        Promise.resolve(pending).then(
          (value) => {
            if (!finish()) return;
            if (this.events.hasListeners) this.#emitOutcome(start, undefined, false);
            resolve(value);
          },
          (error: unknown) => {
            if (!finish()) return;
            if (this.events.hasListeners) this.#emitOutcome(start, error, true);
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, unchanged
            reject(error);
          },
        );
      });
    };
  };
}

/** Gate token when someone listens: the replaced deadline plus the start time for durations. */
class Timed {
  constructor(
    readonly parentAt: number,
    readonly start: number,
  ) {}
}
