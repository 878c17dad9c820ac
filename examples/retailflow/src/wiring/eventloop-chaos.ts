import type { Clock, TimerHandle } from '@ballast/core';
import type { ChaosFault } from '../policies.js';

/** How often the event-loop chaos switch holds the loop, in milliseconds. */
export const EVENT_LOOP_BURN_PERIOD_MS = 1000;

/** Holds the thread for `ms` milliseconds of wall time: the synchronous work the switch stands for. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose: nothing else runs on this thread meanwhile, as under a synchronous hot path.
  }
}

/**
 * The `eventloop` chaos switch of `/admin/chaos`: while it is on, the event loop is held busy for `latencyMs` once
 * a second (at most 950 ms of each second), as a synchronous hot path would (a large `JSON.parse`, a synchronous
 * hash), so event loop utilization and delay rise as they would under CPU-bound work, and every request waits behind
 * it. `errorRate` means nothing here. Its timer never holds the process open.
 *
 * @example
 * ```ts
 * const burn = new EventLoopBurn(systemClock);
 * burn.set({ enabled: true, latencyMs: 400, errorRate: 0 }); // 40% of every second
 * burn.set({ enabled: false, latencyMs: 0, errorRate: 0 });
 * ```
 */
export class EventLoopBurn {
  #fault: ChaosFault = { enabled: false, latencyMs: 0, errorRate: 0 };
  #timer: TimerHandle | undefined;
  readonly #clock: Clock;
  readonly #busy: (ms: number) => void;

  /**
   * @param clock - Schedules the bursts.
   * @param busy - Holds the loop for that many milliseconds. @default a busy wait on `performance.now()`
   */
  constructor(clock: Clock, busy: (ms: number) => void = spin) {
    this.#clock = clock;
    this.#busy = busy;
  }

  /** The setting in force. */
  get fault(): ChaosFault {
    return { ...this.#fault };
  }

  /** Switches the burn on (`enabled` with a `latencyMs` above 0) or off, from the next second. */
  set(fault: ChaosFault): void {
    this.#fault = { ...fault };
    this.close();
    if (fault.enabled && fault.latencyMs > 0) this.#schedule();
  }

  /** Stops the burn (the setting stays as it was). */
  close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#schedule();
        this.#busy(Math.min(this.#fault.latencyMs, EVENT_LOOP_BURN_PERIOD_MS - 50));
      },
      EVENT_LOOP_BURN_PERIOD_MS,
      { ref: false },
    );
  }
}
