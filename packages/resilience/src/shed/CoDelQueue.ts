import type { Clock, TimerHandle } from '@ballast/core';
import type { Priority } from '@ballast/core';
import type { LoadShedError, LoadShedReason } from './LoadShedError.js';

/** Priority classes in the order they leave the queue. */
export const PRIORITY_ORDER: readonly Priority[] = ['critical', 'default', 'sheddable'];

/** How a {@link CoDelQueue} reaches the limiter in front of which it stands. */
export interface CoDelQueueOptions<P> {
  /** Most calls waiting at once; 0 refuses every call (reason `limit`). */
  readonly maxSize: number;
  /** Acceptable queueing delay in milliseconds (CoDel's `target`). */
  readonly targetMs: number;
  /** How long the delay may stay above target before calls are dropped (CoDel's `interval`); the longest wait. */
  readonly intervalMs: number;
  /** Time source for waits and queueing delays. */
  readonly clock: Clock;
  /** True while a call of `priority` may run now. */
  readonly hasRoom: (priority: Priority) => boolean;
  /** Admits a call of `priority` (takes its permit). */
  readonly admit: (priority: Priority) => P;
  /** The error a refused or dropped call of `priority` rejects with (and the limiter's `rejected` event). */
  readonly shed: (priority: Priority, reason: LoadShedReason) => LoadShedError;
}

interface Waiter<P> {
  readonly priority: Priority;
  readonly enqueuedAt: number;
  readonly resolve: (permit: P) => void;
  readonly reject: (error: LoadShedError) => void;
  timer: TimerHandle | undefined;
}

/**
 * The CoDel-style queue of a {@link ConcurrencyLimiter} (Nichols and Jacobson, "Controlling Queue Delay", 2012),
 * one FIFO per priority class. A call waits at most `intervalMs`; once the queueing delay has stayed above
 * `targetMs` for `intervalMs`, queued calls whose delay exceeds the target are dropped at dequeue and newly queued
 * calls wait at most `targetMs`, until a call again leaves the queue within the target. Higher classes leave first
 * (strict priority); a full queue gives a higher-priority arrival the place of its newest lowest-priority call.
 *
 * Internal to the package: the limiter owns it and its options (`LimiterQueueOptions`).
 *
 * @example
 * ```ts
 * const queue = new CoDelQueue({ maxSize: 50, targetMs: 5, intervalMs: 100, clock, hasRoom, admit, shed });
 * const permit = await queue.enqueue('default'); // when the limiter is full
 * queue.drain(); // whenever a permit is released
 * ```
 */
export class CoDelQueue<P> {
  readonly #options: CoDelQueueOptions<P>;
  readonly #queues: Record<Priority, Waiter<P>[]> = { critical: [], default: [], sheddable: [] };
  #size = 0;
  /** When the queueing delay, above target since then, starts dropping; undefined while below target. */
  #dropFrom: number | undefined;

  constructor(options: CoDelQueueOptions<P>) {
    this.#options = options;
  }

  /** Calls waiting. */
  get size(): number {
    return this.#size;
  }

  /** Capacity was freed with nobody waiting: there is no standing queue. */
  idle(): void {
    this.#dropFrom = undefined;
  }

  /** Queues a call of `priority`; resolves with its permit once admitted, or rejects when it is shed. */
  enqueue(priority: Priority): Promise<P> {
    const { maxSize, clock } = this.#options;
    if (this.#size >= maxSize && !this.#evictFor(priority)) {
      return Promise.reject(this.#options.shed(priority, maxSize === 0 ? 'limit' : 'queue-full'));
    }
    return new Promise<P>((resolve, reject) => {
      const now = clock.now();
      const waiter: Waiter<P> = { priority, enqueuedAt: now, resolve, reject, timer: undefined };
      const dropping = this.#dropFrom !== undefined && now >= this.#dropFrom;
      waiter.timer = clock.setTimeout(
        () => this.#expire(waiter),
        dropping ? this.#options.targetMs : this.#options.intervalMs,
      );
      this.#queues[priority].push(waiter);
      this.#size++;
      // The limit may have room for this priority while a higher class waits for more: try now.
      this.drain();
    });
  }

  /** Admits waiting calls while the limiter has room, highest class first; drops those CoDel says to drop. */
  drain(): void {
    const { clock, targetMs, intervalMs, hasRoom, admit, shed } = this.#options;
    for (const priority of PRIORITY_ORDER) {
      const queue = this.#queues[priority];
      while (queue.length > 0 && hasRoom(priority)) {
        const waiter = queue.shift()!;
        this.#size--;
        if (waiter.timer !== undefined) clock.clearTimeout(waiter.timer);
        const now = clock.now();
        if (now - waiter.enqueuedAt <= targetMs) {
          this.#dropFrom = undefined;
        } else if (this.#dropFrom === undefined) {
          this.#dropFrom = now + intervalMs;
        } else if (now >= this.#dropFrom) {
          waiter.reject(shed(priority, 'queue-timeout'));
          continue;
        }
        waiter.resolve(admit(priority));
      }
      if (queue.length > 0) return; // strict priority: lower classes wait while a higher one cannot run
    }
  }

  /** Makes room in a full queue for `priority` by shedding the newest call of a lower class. */
  #evictFor(priority: Priority): boolean {
    for (let i = PRIORITY_ORDER.length - 1; PRIORITY_ORDER[i] !== priority; i--) {
      const victim = this.#queues[PRIORITY_ORDER[i]!].pop();
      if (victim) {
        this.#size--;
        if (victim.timer !== undefined) this.#options.clock.clearTimeout(victim.timer);
        victim.reject(this.#options.shed(victim.priority, 'queue-full'));
        return true;
      }
    }
    return false;
  }

  #expire(waiter: Waiter<P>): void {
    const queue = this.#queues[waiter.priority];
    const i = queue.indexOf(waiter);
    if (i < 0) return;
    queue.splice(i, 1);
    this.#size--;
    // A call waited a whole timeout: the delay has been above target at least that long.
    this.#dropFrom ??= this.#options.clock.now();
    waiter.reject(this.#options.shed(waiter.priority, 'queue-timeout'));
  }
}
