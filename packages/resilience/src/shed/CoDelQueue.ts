import type { Clock, TimerHandle } from '@ballast/core';
import type { Priority } from '@ballast/core';
import type { LoadShedError, LoadShedReason } from './LoadShedError.js';

/** Priority classes in the order they leave the queue. */
export const PRIORITY_ORDER: readonly Priority[] = ['critical', 'default', 'sheddable'];

/** What a queued call is: its priority class, and the tenant it belongs to when the limiter partitions by tenant. */
export interface QueueTicket {
  readonly priority: Priority;
  readonly tenant: string | undefined;
}

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
  /** True while the call `ticket` may run now. */
  readonly hasRoom: (ticket: QueueTicket) => boolean;
  /** Admits the call `ticket` (takes its permit). */
  readonly admit: (ticket: QueueTicket) => P;
  /**
   * Partitioned mode: a class that cannot run does not hold lower classes back (they may run on their own
   * reservation), and within a class the waiter whose tenant holds the fewest permits leaves first (`held`).
   * Without it: strict priority and FIFO.
   */
  readonly partitioned?: { readonly held: (tenant: string | undefined) => number };
  /** Told when a call joins (+1) or leaves (-1) the queue, whatever the way out. */
  readonly onWait?: (ticket: QueueTicket, delta: 1 | -1) => void;
  /** The error a refused or dropped call of `priority` rejects with (and the limiter's `rejected` event). */
  readonly shed: (priority: Priority, reason: LoadShedReason) => LoadShedError;
}

interface Waiter<P> extends QueueTicket {
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

  /** Calls of `priority` waiting. */
  sizeOf(priority: Priority): number {
    return this.#queues[priority].length;
  }

  /** Capacity was freed with nobody waiting: there is no standing queue. */
  idle(): void {
    this.#dropFrom = undefined;
  }

  /** Queues a call; resolves with its permit once admitted, or rejects when it is shed. */
  enqueue(priority: Priority, tenant?: string): Promise<P> {
    const { maxSize, clock } = this.#options;
    if (this.#size >= maxSize && !this.#evictFor(priority, tenant)) {
      return Promise.reject(this.#options.shed(priority, maxSize === 0 ? 'limit' : 'queue-full'));
    }
    return new Promise<P>((resolve, reject) => {
      const now = clock.now();
      const waiter: Waiter<P> = { priority, tenant, enqueuedAt: now, resolve, reject, timer: undefined };
      const dropping = this.#dropFrom !== undefined && now >= this.#dropFrom;
      waiter.timer = clock.setTimeout(
        () => this.#expire(waiter),
        dropping ? this.#options.targetMs : this.#options.intervalMs,
      );
      this.#queues[priority].push(waiter);
      this.#size++;
      this.#options.onWait?.(waiter, 1);
      // The limit may have room for this priority while a higher class waits for more: try now.
      this.drain();
    });
  }

  /** Admits waiting calls while the limiter has room, highest class first; drops those CoDel says to drop. */
  drain(): void {
    const { clock, targetMs, intervalMs, admit, shed, partitioned } = this.#options;
    for (const priority of PRIORITY_ORDER) {
      const queue = this.#queues[priority];
      for (;;) {
        const i = this.#next(queue);
        if (i < 0) break;
        const waiter = queue.splice(i, 1)[0]!;
        this.#left(waiter);
        const now = clock.now();
        if (now - waiter.enqueuedAt <= targetMs) {
          this.#dropFrom = undefined;
        } else if (this.#dropFrom === undefined) {
          this.#dropFrom = now + intervalMs;
        } else if (now >= this.#dropFrom) {
          waiter.reject(shed(priority, 'queue-timeout'));
          continue;
        }
        waiter.resolve(admit(waiter));
      }
      // Strict priority: lower classes wait while a higher one cannot run (partitioned: they may use their own
      // reservation).
      if (queue.length > 0 && partitioned === undefined) return;
    }
  }

  /** The index of the waiter of `queue` to admit next, or -1 when none may run. */
  #next(queue: readonly Waiter<P>[]): number {
    const { hasRoom, partitioned } = this.#options;
    if (queue.length === 0) return -1;
    if (partitioned === undefined) return hasRoom(queue[0]!) ? 0 : -1;
    // The waiter whose tenant holds the fewest permits (the oldest of those), among those that may run.
    let best = -1;
    let bestHeld = Number.POSITIVE_INFINITY;
    for (let i = 0; i < queue.length; i++) {
      const waiter = queue[i]!;
      const held = partitioned.held(waiter.tenant);
      if (held < bestHeld && hasRoom(waiter)) {
        best = i;
        bestHeld = held;
        if (held === 0) break;
      }
    }
    return best;
  }

  /** Bookkeeping of a waiter leaving the queue. */
  #left(waiter: Waiter<P>): void {
    this.#size--;
    if (waiter.timer !== undefined) this.#options.clock.clearTimeout(waiter.timer);
    this.#options.onWait?.(waiter, -1);
  }

  /**
   * Makes room in a full queue for a call of `priority` by shedding the newest call of a lower class; partitioned
   * by tenant, failing that, the newest call of the same class from the tenant with the most calls waiting, when
   * that tenant has more waiting than the arrival's.
   */
  #evictFor(priority: Priority, tenant: string | undefined): boolean {
    for (let i = PRIORITY_ORDER.length - 1; PRIORITY_ORDER[i] !== priority; i--) {
      const victim = this.#queues[PRIORITY_ORDER[i]!].pop();
      if (victim) {
        this.#evict(victim);
        return true;
      }
    }
    if (this.#options.partitioned === undefined || tenant === undefined) return false;
    const queue = this.#queues[priority];
    const waiting = new Map<string | undefined, number>();
    for (const w of queue) waiting.set(w.tenant, (waiting.get(w.tenant) ?? 0) + 1);
    let heaviest: string | undefined;
    let most = waiting.get(tenant) ?? 0;
    for (const [t, n] of waiting) {
      if (t !== undefined && n > most) [heaviest, most] = [t, n];
    }
    if (heaviest === undefined) return false;
    for (let i = queue.length - 1; i >= 0; i--) {
      if (queue[i]!.tenant === heaviest) {
        this.#evict(queue.splice(i, 1)[0]!);
        return true;
      }
    }
    return false;
  }

  #evict(victim: Waiter<P>): void {
    this.#left(victim);
    victim.reject(this.#options.shed(victim.priority, 'queue-full'));
  }

  #expire(waiter: Waiter<P>): void {
    const queue = this.#queues[waiter.priority];
    const i = queue.indexOf(waiter);
    if (i < 0) return;
    queue.splice(i, 1);
    this.#left(waiter);
    // A call waited a whole timeout: the delay has been above target at least that long.
    this.#dropFrom ??= this.#options.clock.now();
    waiter.reject(this.#options.shed(waiter.priority, 'queue-timeout'));
  }
}
