import { type Clock, systemClock } from '@ballast/core';
import { Deadline } from '../deadline/Deadline.js';

/**
 * What a policy hands the function it runs.
 *
 * @example
 * ```ts
 * await policy.execute(({ signal, deadline }) =>
 *   fetch(url, { signal, headers: writeDeadlineHeader({}, deadline) }),
 * );
 * ```
 */
export interface CallContext {
  /**
   * Aborts when the caller's signal aborts or the deadline passes. Created on first read: a call that never reads
   * it pays for no `AbortController` and no timer.
   */
  readonly signal: AbortSignal;
  /** The deadline this call must meet (the caller's, tightened by any timeout policy it passed through). */
  readonly deadline: Deadline | undefined;
  /** 0 for the first attempt, 1 for the first retry, and so on. */
  readonly attempt: number;
}

/** Options every policy's `execute` accepts. */
export interface ExecuteOptions {
  /** Cancels the call (and any queue wait or retry delay) when aborted. @default undefined */
  readonly signal?: AbortSignal;
  /** The deadline the call must meet; defaults to the ambient one from `runWithDeadline`. @default undefined */
  readonly deadline?: Deadline;
  /**
   * Whether running the operation twice is harmless. Overrides the retry policy's `idempotent` option for this
   * call. @default the retry policy's option
   */
  readonly idempotent?: boolean;
}

/** A unit of work a policy runs. It may return a value or a promise. */
export type Operation<T> = (context: CallContext) => PromiseLike<T> | T;

const never = new AbortController().signal;

/**
 * Internal, mutable implementation of {@link CallContext}; one per `execute`. The deadline is kept as a number
 * (`deadlineAt`, `Infinity` for none) so that tightening it per call allocates nothing; a {@link Deadline} object
 * is made only when someone reads `deadline` (or `signal`).
 */
export class Call implements CallContext {
  /** The call's deadline in `clock` milliseconds; `Infinity` when it has none. */
  deadlineAt: number;
  /** The clock `deadlineAt` is measured with. */
  clock: Clock;
  attempt = 0;
  readonly userSignal: AbortSignal | undefined;
  readonly idempotent: boolean | undefined;
  #deadline: Deadline | undefined;
  #signal: AbortSignal | undefined;
  #signalDeadline: Deadline | undefined;

  constructor(options: ExecuteOptions | undefined, deadline: Deadline | undefined) {
    this.#deadline = deadline;
    this.deadlineAt = deadline ? deadline.at : Infinity;
    this.clock = deadline ? deadline.clock : systemClock;
    this.userSignal = options?.signal;
    this.idempotent = options?.idempotent;
  }

  get deadline(): Deadline | undefined {
    const at = this.deadlineAt;
    if (at === Infinity) return undefined;
    const current = this.#deadline;
    if (current && current.at === at) return current;
    return (this.#deadline = new Deadline(at, this.clock));
  }

  /**
   * Restores the deadline that was in force before a policy tightened it, releasing the tightened deadline's
   * timer if its signal was read.
   */
  restoreDeadline(at: number): void {
    const current = this.#deadline;
    if (current && current.at === this.deadlineAt && current.at !== at) current.dispose();
    this.deadlineAt = at;
  }

  get signal(): AbortSignal {
    const deadline = this.deadline;
    if (this.#signal && this.#signalDeadline === deadline) return this.#signal;
    const user = this.userSignal;
    const signal = deadline
      ? user
        ? AbortSignal.any([user, deadline.signal])
        : deadline.signal
      : (user ?? never);
    this.#signal = signal;
    this.#signalDeadline = deadline;
    return signal;
  }
}
