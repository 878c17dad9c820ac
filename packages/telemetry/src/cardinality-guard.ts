import { checkNumber, invalidOption } from '@ballast/core';
import { OVERFLOW_VALUE } from './catalog.js';

/** Options for {@link CardinalityGuard}. */
export interface CardinalityOptions {
  /**
   * Distinct values one label of one metric may take; later new values collapse to `__overflow__`.
   * @default 100
   * @example
   * ```ts
   * createMetricsRegistry({ cardinality: { limit: 50 } });
   * ```
   */
  readonly limit?: number;
  /**
   * Per-metric, per-label caps that override `limit`, e.g. `{ http_server_request_duration_seconds: { tenant: 20 } }`.
   * @default {}
   * @example
   * ```ts
   * createMetricsRegistry({ cardinality: { limits: { http_client_request_duration_seconds: { server_address: 10 } } } });
   * ```
   */
  readonly limits?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Called once per collapsed value with the metric and label that hit the cap. */
export type OverflowListener = (metric: string, label: string) => void;

/**
 * Bounds the number of distinct values of each label of each metric. Values seen before the cap pass through;
 * new values past it become `__overflow__` and are reported to the overflow listener (the registry counts them in
 * `ballast_telemetry_label_overflow_total{metric,label}`). Memory is bounded by the caps.
 *
 * @example
 * ```ts
 * import { CardinalityGuard } from '@ballast/telemetry';
 * const guard = new CardinalityGuard({ limit: 2 });
 * guard.value('m', 'tenant', 'a'); // 'a'
 * guard.value('m', 'tenant', 'b'); // 'b'
 * guard.value('m', 'tenant', 'c'); // '__overflow__'
 * ```
 */
export class CardinalityGuard {
  readonly #limit: number;
  readonly #limits: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly #caps = new Map<string, LabelCap>();
  #onOverflow: OverflowListener | undefined;

  constructor(options: CardinalityOptions = {}, onOverflow?: OverflowListener) {
    this.#limit = checkNumber('cardinality.limit', options.limit, 100, { integer: true, min: 1 });
    const limits = options.limits ?? {};
    if (typeof limits !== 'object' || limits === null) {
      throw invalidOption('cardinality.limits', 'an object of { metric: { label: number } }', limits);
    }
    for (const [metric, labels] of Object.entries(limits)) {
      for (const [label, cap] of Object.entries(labels)) {
        checkNumber(`cardinality.limits.${metric}.${label}`, cap, 1, { integer: true, min: 1 });
      }
    }
    this.#limits = limits;
    this.#onOverflow = onOverflow;
  }

  /** Sets the listener told about every collapsed value. */
  set onOverflow(listener: OverflowListener | undefined) {
    this.#onOverflow = listener;
  }

  /** The cap that applies to `label` of `metric`. */
  limitFor(metric: string, label: string): number {
    return this.#limits[metric]?.[label] ?? this.#limit;
  }

  /** Returns `value` when it is already known or fits under the cap, `__overflow__` otherwise. */
  value(metric: string, label: string, value: string): string {
    return this.cap(metric, label).value(value);
  }

  /**
   * The cap of one label of one metric; hold on to it on hot paths (`cap.value(v)` skips the lookup by name).
   *
   * @example
   * ```ts
   * const routes = guard.cap('http_server_request_duration_seconds', 'http_route');
   * routes.value('/users/:id');
   * ```
   */
  cap(metric: string, label: string): LabelCap {
    const key = `${metric}\u0000${label}`;
    let cap = this.#caps.get(key);
    if (cap === undefined) {
      cap = new LabelCap(this.limitFor(metric, label), () => this.#onOverflow?.(metric, label));
      this.#caps.set(key, cap);
    }
    return cap;
  }

  /** Distinct values admitted so far for `label` of `metric`. */
  size(metric: string, label: string): number {
    return this.#caps.get(`${metric}\u0000${label}`)?.size ?? 0;
  }
}

/**
 * The distinct values admitted for one label of one metric (see {@link CardinalityGuard.cap}).
 *
 * @example
 * ```ts
 * const tenants = metrics.guard.cap('http_server_request_duration_seconds', 'tenant');
 * tenants.value('acme'); // 'acme', or '__overflow__' past the cap
 * ```
 */
export class LabelCap {
  readonly #seen = new Set<string>();
  readonly #limit: number;
  readonly #overflow: () => void;

  constructor(limit: number, overflow: () => void) {
    this.#limit = limit;
    this.#overflow = overflow;
  }

  /** Returns `value` when it is known or fits under the cap, `__overflow__` otherwise. */
  value(value: string): string {
    const seen = this.#seen;
    if (seen.has(value)) return value;
    if (seen.size < this.#limit) {
      seen.add(value);
      return value;
    }
    this.#overflow();
    return OVERFLOW_VALUE;
  }

  /** Distinct values admitted so far. */
  get size(): number {
    return this.#seen.size;
  }
}
