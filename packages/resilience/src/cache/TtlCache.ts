import { checkFunction, checkNumber, invalidOption, systemClock, type Clock } from '@ballast/core';
import { EventedPolicy, policyName } from '../common/EventedPolicy.js';
import { SingleFlight } from './SingleFlight.js';

/** Options for {@link TtlCache}. */
export interface TtlCacheOptions {
  /** Policy name used in events. @default 'cache' */
  readonly name?: string;
  /** How long a loaded value is fresh, in milliseconds. */
  readonly ttlMs: number;
  /**
   * Fraction of `ttlMs` taken off at random per entry, so entries loaded together do not expire together:
   * an entry is fresh for `ttlMs * (1 - jitter * random())`.
   * @default 0.1
   */
  readonly jitter?: number;
  /**
   * For this many milliseconds after expiry a `get` answers the stale value at once and refreshes it in the
   * background (one refresh per key at a time).
   * @default 0
   */
  readonly staleWhileRevalidateMs?: number;
  /** For this many milliseconds after expiry a failed load answers the stale value instead of the error. @default 0 */
  readonly staleIfErrorMs?: number;
  /** Most entries kept; the least recently used goes first. @default 1000 */
  readonly maxEntries?: number;
  /** Time source. @default systemClock */
  readonly clock?: Clock;
  /** Uniform random numbers in [0, 1), for the jitter. @default Math.random */
  readonly random?: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly freshUntil: number;
}

/**
 * A small in-process TTL cache against thundering herds: concurrent misses for a key share one load
 * ({@link SingleFlight}), expiry is jittered, and an expired entry can be served while it is refreshed
 * (`staleWhileRevalidateMs`, as RFC 5861) or when the refresh fails (`staleIfErrorMs`). Bounded by `maxEntries`
 * (LRU). Emits `cache` events: `hit`, `stale`, `miss`, `shared` (joined a load in progress); a failed background refresh emits `failure`.
 *
 * @example
 * ```ts
 * import { TtlCache } from '@ballast/resilience';
 * const prices = new TtlCache<number>({ ttlMs: 30_000, staleWhileRevalidateMs: 60_000, staleIfErrorMs: 300_000 });
 * const price = await prices.get(sku, () => pricing.fetch(sku));
 * ```
 */
export class TtlCache<V> extends EventedPolicy {
  override readonly kind = 'cache' as const;

  readonly #ttlMs: number;
  readonly #jitter: number;
  readonly #swrMs: number;
  readonly #sieMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #flights = new SingleFlight<V>();

  constructor(options: TtlCacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption('options', 'an object with `ttlMs`', options);
    }
    super(policyName(options.name, 'cache'));
    if (options.ttlMs === undefined) throw invalidOption('ttlMs', 'a finite number > 0', undefined);
    this.#ttlMs = checkNumber('ttlMs', options.ttlMs, 0, { above: 0 });
    this.#jitter = checkNumber('jitter', options.jitter, 0.1, { min: 0, max: 1 });
    this.#swrMs = checkNumber('staleWhileRevalidateMs', options.staleWhileRevalidateMs, 0, { min: 0 });
    this.#sieMs = checkNumber('staleIfErrorMs', options.staleIfErrorMs, 0, { min: 0 });
    this.#maxEntries = checkNumber('maxEntries', options.maxEntries, 1000, { integer: true, min: 1 });
    this.#clock = options.clock ?? systemClock;
    this.#random = checkFunction('random', options.random, Math.random);
  }

  /** Entries held (fresh or stale). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The value for `key`: from the cache when fresh; the stale value (refreshing in the background) within
   * `staleWhileRevalidateMs` of expiry; otherwise from `load`, shared with concurrent callers for the same key.
   */
  get(key: string, load: (key: string) => V | Promise<V>): Promise<V> {
    const entry = this.#entries.get(key);
    const now = this.#clock.now();
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry); // most recently used
      if (now < entry.freshUntil) {
        this.#emit('hit');
        return Promise.resolve(entry.value);
      }
      if (now < entry.freshUntil + this.#swrMs) {
        this.#emit('stale');
        if (!this.#flights.has(key))
          this.#load(key, load).catch((error: unknown) => this.#refreshFailed(error));
        return Promise.resolve(entry.value);
      }
    }
    this.#emit(this.#flights.has(key) ? 'shared' : 'miss');
    return this.#load(key, load).catch((error: unknown) => {
      const stale = this.#entries.get(key);
      if (stale && this.#clock.now() < stale.freshUntil + this.#sieMs) {
        this.#emit('stale');
        return stale.value;
      }
      throw error;
    });
  }

  /** The cached value for `key` if it is fresh, without loading. */
  peek(key: string): V | undefined {
    const entry = this.#entries.get(key);
    return entry && this.#clock.now() < entry.freshUntil ? entry.value : undefined;
  }

  /** Stores `value` for `key` as freshly loaded. */
  set(key: string, value: V): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    const ttl = this.#ttlMs * (1 - this.#jitter * this.#random());
    this.#entries.set(key, { value, freshUntil: this.#clock.now() + ttl });
  }

  /** Forgets `key`. */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
  }

  #load(key: string, load: (key: string) => V | Promise<V>): Promise<V> {
    return this.#flights.run(key, async () => {
      const value = await load(key);
      this.set(key, value);
      return value;
    });
  }

  #refreshFailed(error: unknown): void {
    if (this.events.hasListeners) {
      this.events.emit({
        type: 'failure',
        policy: this.name,
        kind: this.kind,
        durationMs: 0,
        error,
        counted: false,
      });
    }
  }

  #emit(result: 'hit' | 'miss' | 'stale' | 'shared'): void {
    if (this.events.hasListeners) {
      this.events.emit({ type: 'cache', policy: this.name, kind: this.kind, result });
    }
  }
}
