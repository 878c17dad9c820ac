import { type Clock, type TimerHandle, checkNumber } from '@ballast/core';
import type { Call } from '../common/CallContext.js';
import { PolicyBase } from '../common/PolicyBase.js';
import { type Gate, type Step, toStep } from '../common/compose.js';
import { BulkheadRejectedError } from './BulkheadRejectedError.js';
import type { BulkheadGauges } from '@ballast/core';

/** Options for {@link BulkheadPolicy}. */
export interface BulkheadOptions {
  /** Name used in events, errors and metrics. @default 'bulkhead' */
  readonly name?: string;
  /** Calls allowed in flight at once. @default 10 */
  readonly limit?: number;
  /** Calls allowed to wait for a slot; more are refused at once with reason `bulkhead-full`. @default 0 */
  readonly maxQueued?: number;
  /**
   * Longest a call may wait in the queue before it is refused with reason `queue-timeout` (also bounded by the
   * call's deadline). @default 1000
   */
  readonly queueTimeoutMs?: number;
  /** Source of time for queue timeouts and durations. @default systemClock */
  readonly clock?: Clock;
}

interface Waiter {
  readonly resolve: (token: number | undefined) => void;
  readonly reject: (error: unknown) => void;
  readonly enqueuedAt: number;
  timer: TimerHandle | undefined;
  cleanup: (() => void) | undefined;
}

/**
 * Caps how many calls to one dependency run at once, so a slow dependency ties up a bounded share of the service,
 * not all of it. Excess calls wait in a bounded FIFO queue for at most `queueTimeoutMs`, then are refused with a
 * {@link BulkheadRejectedError} saying why. Exposes `inFlight`, `queued` and `limit` for USE metrics.
 *
 * @example
 * ```ts
 * import { BulkheadPolicy } from '@ballast/resilience';
 * const bulkhead = new BulkheadPolicy({ name: 'postgres', limit: 20, maxQueued: 50, queueTimeoutMs: 250 });
 * const rows = await bulkhead.execute(() => pool.query(sql));
 * ```
 */
export class BulkheadPolicy extends PolicyBase implements BulkheadGauges {
  readonly kind = 'bulkhead' as const;
  readonly limit: number;
  readonly maxQueued: number;
  readonly queueTimeoutMs: number;
  #inFlight = 0;
  readonly #queue: (Waiter | undefined)[] = [];
  #head = 0;
  #waiting = 0;

  constructor(options: BulkheadOptions = {}) {
    super(options.name ?? 'bulkhead', options.clock);
    this.limit = checkNumber('limit', options.limit, 10, { integer: true, min: 1 });
    this.maxQueued = checkNumber('maxQueued', options.maxQueued, 0, { integer: true, min: 0 });
    this.queueTimeoutMs = checkNumber('queueTimeoutMs', options.queueTimeoutMs, 1_000, { min: 0 });
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls waiting for a slot. */
  get queued(): number {
    return this.#waiting;
  }

  /** @internal */
  override [toStep](): Step {
    return { gate: this.#gate };
  }

  readonly #gate: Gate = {
    enter: (call: Call) => {
      const timed = this.events.hasListeners;
      if (this.#inFlight < this.limit && this.#waiting === 0) {
        this.#inFlight++;
        return timed ? this.clock.now() : undefined;
      }
      if (this.#waiting >= this.maxQueued) throw this.#refuse('bulkhead-full', 0);
      return this.#wait(call);
    },
    leave: (start, _call, error, failed) => {
      this.#inFlight--;
      if (this.events.hasListeners) {
        const durationMs = start === undefined ? 0 : this.clock.now() - (start as number);
        this.emitOutcome(durationMs, error, failed);
      }
      if (this.#head < this.#queue.length) this.#admitNext();
      return error;
    },
  };

  #wait(call: Call): Promise<number | undefined> {
    const enqueuedAt = this.clock.now();
    return new Promise<number | undefined>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, enqueuedAt, timer: undefined, cleanup: undefined };
      const slot = this.#queue.length;
      this.#queue.push(waiter);
      this.#waiting++;
      const remaining =
        call.deadlineAt === Infinity ? Infinity : Math.max(0, call.deadlineAt - call.clock.now());
      const waitMs = Math.min(this.queueTimeoutMs, remaining);
      const drop = (error: unknown): void => {
        if (this.#queue[slot] !== waiter) return;
        this.#queue[slot] = undefined;
        this.#waiting--;
        this.#compact();
        waiter.cleanup?.();
        if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, unchanged
        reject(error);
      };
      if (waitMs !== Infinity) {
        waiter.timer = this.clock.setTimeout(
          () => drop(this.#refuse('queue-timeout', this.clock.now() - enqueuedAt)),
          waitMs,
        );
      }
      const signal = call.userSignal;
      if (signal) {
        if (signal.aborted) return drop(signal.reason);
        const onAbort = (): void => drop(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
    });
  }

  #admitNext(): void {
    while (this.#head < this.#queue.length && this.#inFlight < this.limit) {
      const waiter = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (!waiter) continue;
      this.#waiting--;
      if (waiter.timer !== undefined) this.clock.clearTimeout(waiter.timer);
      waiter.cleanup?.();
      this.#inFlight++;
      waiter.resolve(this.events.hasListeners ? this.clock.now() : undefined);
    }
    this.#compact();
  }

  /** Drops leading empty slots and reclaims the array once the queue drains. */
  #compact(): void {
    while (this.#head < this.#queue.length && this.#queue[this.#head] === undefined) this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
  }

  #refuse(reason: 'bulkhead-full' | 'queue-timeout', waitedMs: number): BulkheadRejectedError {
    if (this.events.hasListeners) {
      this.events.emit({ policy: this.name, kind: this.kind, type: 'rejected', reason });
    }
    return new BulkheadRejectedError(this.name, reason, this.limit, this.queued, waitedMs);
  }
}
