import { EventedPolicy, policyName } from '../common/EventedPolicy.js';

/** Options for {@link SingleFlight}. */
export interface SingleFlightOptions {
  /** Policy name used in events. @default 'single-flight' */
  readonly name?: string;
}

/**
 * Collapses concurrent calls with the same key into one execution (Go's `singleflight`): the first caller runs `fn`,
 * callers arriving while it runs share its result, or its error. Once it settles the key is free again, so nothing
 * is cached. Emits `cache` events: `miss` for the call that ran, `shared` for each caller that joined it.
 *
 * @example
 * ```ts
 * import { SingleFlight } from '@ballast/resilience';
 * const flights = new SingleFlight<Product>();
 * const product = await flights.run(`product:${id}`, () => db.loadProduct(id));
 * ```
 */
export class SingleFlight<V> extends EventedPolicy {
  override readonly kind = 'single-flight' as const;
  readonly #inFlight = new Map<string, Promise<V>>();

  constructor(options: SingleFlightOptions = {}) {
    super(policyName(options.name, 'single-flight'));
  }

  /** Keys with an execution in progress. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** True while an execution for `key` is in progress. */
  has(key: string): boolean {
    return this.#inFlight.has(key);
  }

  /** Runs `fn` for `key`, or joins the execution already running for it. */
  run(key: string, fn: () => V | Promise<V>): Promise<V> {
    const running = this.#inFlight.get(key);
    if (running) {
      this.#emit('shared');
      return running;
    }
    this.#emit('miss');
    const flight = new Promise<V>((resolve) => resolve(fn())); // a synchronous throw becomes a rejection
    const tracked = flight.finally(() => {
      if (this.#inFlight.get(key) === tracked) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, tracked);
    return tracked;
  }

  #emit(result: 'miss' | 'shared'): void {
    if (this.events.hasListeners) {
      this.events.emit({ type: 'cache', policy: this.name, kind: this.kind, result });
    }
  }
}
