import { checkNumber } from '@ballast/core';
import { gcra } from './gcra.js';
import type { GcraParams, RateLimitDecision } from './RateLimitRule.js';
import type { RateLimitStore } from './RateLimitStore.js';

/** Options for {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Most keys kept. When full, the least recently used key is forgotten (it starts again with a full burst), so a
   * flood of random keys costs at most this many entries.
   * @default 10000
   */
  readonly maxKeys?: number;
}

/**
 * In-process {@link RateLimitStore}: one number (the GCRA theoretical arrival time) per key in an insertion-ordered
 * `Map` used as an LRU. Memory is bounded by `maxKeys`, and idle keys expire without timers: a key whose arrival time
 * has passed is back to a full burst, holds no information, and is dropped when it reaches the old end of the LRU.
 *
 * Public test double too: use it in tests of code that takes a {@link RateLimitStore}.
 *
 * @example
 * ```ts
 * import { MemoryRateLimitStore } from '@ballast/resilience';
 * const store = new MemoryRateLimitStore({ maxKeys: 100_000 });
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #maxKeys: number;
  readonly #tats = new Map<string, number>();

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#maxKeys = checkNumber('maxKeys', options.maxKeys, 10_000, { integer: true, min: 1 });
  }

  /** Keys currently held. */
  get size(): number {
    return this.#tats.size;
  }

  consume(key: string, params: GcraParams, cost: number, now: number): RateLimitDecision {
    const tats = this.#tats;
    const tat = tats.get(key);
    const decision = gcra(tat, now, params, cost);
    if (tat !== undefined) tats.delete(key);
    else this.#makeRoom(now);
    if (decision.tat > now) tats.set(key, decision.tat);
    return decision;
  }

  /**
   * Before a new key goes in: drops up to two expired keys from the old end of the LRU (two per insert keeps pace
   * with the inserts), then the oldest key if the map is still full.
   */
  #makeRoom(now: number): void {
    const tats = this.#tats;
    let budget = 2;
    for (const [oldest, tat] of tats) {
      if (tat <= now && budget-- > 0) {
        tats.delete(oldest);
        continue;
      }
      if (tats.size >= this.#maxKeys) tats.delete(oldest);
      return;
    }
  }

  /** Forgets every key. */
  clear(): void {
    this.#tats.clear();
  }
}
