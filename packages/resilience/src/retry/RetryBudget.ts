import { type Clock, checkNumber, systemClock } from '@ballast/core';
import { SlidingWindow } from '../common/SlidingWindow.js';

/** Options for {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Window over which requests and retries are counted, in milliseconds. @default 10000 */
  readonly ttlMs?: number;
  /** Retries allowed as a fraction of requests in the window. @default 0.2 */
  readonly percentCanRetry?: number;
  /** Retries per second allowed whatever the request count (a floor for quiet clients). @default 10 */
  readonly minRetriesPerSec?: number;
  /** Source of time. @default systemClock */
  readonly clock?: Clock;
}

const REQUESTS = 0;
const RETRIES = 1;

/**
 * Caps retries to a share of traffic, so that when a dependency fails for everyone the retries cannot multiply the
 * load on it (a retry storm). Share one budget among every retry policy that calls the same dependency.
 *
 * As Finagle's `RetryBudget`: over the last `ttlMs`, retries may not exceed
 * `percentCanRetry × requests + minRetriesPerSec × ttlMs / 1000`. With the defaults (20%, 10/s, 10 s) a client
 * sending 1,000 requests/s may retry 200/s; one sending 1 request/s may still retry 10/s.
 *
 * @example
 * ```ts
 * import { RetryBudget, RetryPolicy } from '@ballast/resilience';
 * const inventoryBudget = new RetryBudget();
 * const getRetry = new RetryPolicy({ idempotent: true, budget: inventoryBudget });
 * const listRetry = new RetryPolicy({ idempotent: true, budget: inventoryBudget });
 * ```
 */
export class RetryBudget {
  readonly ttlMs: number;
  readonly percentCanRetry: number;
  readonly minRetriesPerSec: number;
  readonly clock: Clock;
  readonly #window: SlidingWindow;
  readonly #reserve: number;

  constructor(options: RetryBudgetOptions = {}) {
    this.ttlMs = checkNumber('ttlMs', options.ttlMs, 10_000, { min: 1_000, max: 3_600_000 });
    this.percentCanRetry = checkNumber('percentCanRetry', options.percentCanRetry, 0.2, {
      min: 0,
      max: 1000,
    });
    this.minRetriesPerSec = checkNumber('minRetriesPerSec', options.minRetriesPerSec, 10, { min: 0 });
    this.clock = options.clock ?? systemClock;
    this.#window = new SlidingWindow(this.ttlMs, 10, 2);
    this.#reserve = (this.minRetriesPerSec * this.ttlMs) / 1000;
  }

  /** Counts one request (a first attempt). */
  deposit(): void {
    this.#window.add(this.clock.now(), REQUESTS);
  }

  /** Takes one retry from the budget; false (and nothing taken) when the budget is spent. */
  tryWithdraw(): boolean {
    if (this.balance < 1) return false;
    this.#window.add(this.clock.now(), RETRIES);
    return true;
  }

  /** Retries still allowed now. */
  get balance(): number {
    const now = this.clock.now();
    const requests = this.#window.sum(now, REQUESTS);
    const retries = this.#window.lastSum(RETRIES);
    return Math.max(0, Math.floor(this.#reserve + this.percentCanRetry * requests - retries + 1e-9));
  }
}
