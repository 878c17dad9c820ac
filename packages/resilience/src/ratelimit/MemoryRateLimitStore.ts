import { checkNumber } from '@ballast/core';
import { gcra } from './gcra.js';
import type { GcraParams, RateLimitDecision } from './RateLimitRule.js';
import type { RateLimitStore } from './RateLimitStore.js';

/** Options for {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Most keys kept. Past it, the keys not used for the longest are forgotten (they start again with a full
   * burst), so a flood of random keys costs at most this many entries.
   * @default 10000
   */
  readonly maxKeys?: number;
}

/**
 * In-process {@link RateLimitStore}: one number (the GCRA theoretical arrival time) per key, in a two-generation
 * LRU (the scheme of quick-lru and of Go's groupcache): keys live in a `young` map; when it holds `maxKeys / 2`
 * keys it becomes the `old` map and the previous old map is dropped whole. A key used again while old moves back to
 * young. So memory stays within `maxKeys`, a key in use is never forgotten, idle keys leave as new keys arrive, and a
 * decision costs two `Map` operations (no per-hit reordering, no timers).
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
  readonly #generation: number;
  #young = new Map<string, number>();
  #old = new Map<string, number>();

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    const maxKeys = checkNumber('maxKeys', options.maxKeys, 10_000, { integer: true, min: 2 });
    this.#generation = Math.floor(maxKeys / 2);
  }

  /** Keys currently held (at most `maxKeys`). */
  get size(): number {
    return this.#young.size + this.#old.size;
  }

  consume(key: string, params: GcraParams, cost: number, now: number): RateLimitDecision {
    let tat = this.#young.get(key);
    if (tat === undefined) {
      tat = this.#old.get(key);
      if (tat !== undefined) this.#old.delete(key);
    }
    const decision = gcra(tat, now, params, cost);
    if (decision.tat > now) this.#put(key, decision.tat);
    return decision;
  }

  #put(key: string, tat: number): void {
    const young = this.#young;
    if (young.size >= this.#generation && !young.has(key)) {
      this.#old = young;
      this.#young = new Map();
    }
    this.#young.set(key, tat);
  }

  /** Forgets every key. */
  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }
}
