/**
 * Counters over a sliding time window: `fields` counters per bucket, `buckets` buckets of `windowMs / buckets`
 * each. Pure: every method takes `now`. Sums are kept incrementally, so reading them is O(fields); sliding clears
 * only the buckets that fell out of the window.
 */
export class SlidingWindow {
  readonly windowMs: number;
  readonly buckets: number;
  readonly fields: number;
  readonly #width: number;
  /** counts[slot * fields + field] */
  readonly #counts: Float64Array;
  /** The bucket index (time / width) each slot holds, or -Infinity when empty. */
  readonly #slotIndex: Float64Array;
  readonly #sums: Float64Array;
  #current = -Infinity;

  constructor(windowMs: number, buckets: number, fields: number) {
    this.windowMs = windowMs;
    this.buckets = buckets;
    this.fields = fields;
    this.#width = windowMs / buckets;
    this.#counts = new Float64Array(buckets * fields);
    this.#slotIndex = new Float64Array(buckets).fill(-Infinity);
    this.#sums = new Float64Array(fields);
  }

  /** Adds `n` to `field` in the bucket holding `now`. */
  add(now: number, field: number, n = 1): void {
    const slot = this.#slide(Math.floor(now / this.#width));
    this.#counts[slot * this.fields + field]! += n;
    this.#sums[field]! += n;
  }

  /** Sum of `field` over the window ending at `now`. */
  sum(now: number, field: number): number {
    this.#slide(Math.floor(now / this.#width));
    return this.#sums[field]!;
  }

  /** Sum of `field` as of the last `add`/`sum` (no sliding). */
  lastSum(field: number): number {
    return this.#sums[field]!;
  }

  /** Empties the window. */
  clear(): void {
    for (let s = 0; s < this.buckets; s++) this.#clearSlot(s);
    this.#current = -Infinity;
  }

  /** Non-empty buckets as `[startMs, ...counts]`, oldest first. */
  toJSON(): number[][] {
    const out: number[][] = [];
    for (let s = 0; s < this.buckets; s++) {
      const index = this.#slotIndex[s]!;
      if (index === -Infinity) continue;
      const counts = Array.from(this.#counts.subarray(s * this.fields, (s + 1) * this.fields));
      out.push([index * this.#width, ...counts]);
    }
    return out.sort((a, b) => a[0]! - b[0]!);
  }

  /** Replaces the contents with buckets from {@link SlidingWindow.toJSON} (validated by the caller). */
  load(rows: readonly (readonly number[])[]): void {
    this.clear();
    const sorted = rows.slice().sort((a, b) => a[0]! - b[0]!);
    for (const row of sorted) {
      const slot = this.#slide(Math.floor(row[0]! / this.#width));
      for (let f = 0; f < this.fields; f++) {
        const n = row[f + 1] ?? 0;
        this.#counts[slot * this.fields + f]! += n;
        this.#sums[f]! += n;
      }
    }
  }

  /** Drops buckets outside the window that ends in bucket `index`; returns the slot for `index`. */
  #slide(index: number): number {
    const n = this.buckets;
    const slot = ((index % n) + n) % n;
    if (index === this.#current) return slot;
    for (let s = 0; s < n; s++) {
      const held = this.#slotIndex[s]!;
      if (held !== -Infinity && (held <= index - n || held > index || (s === slot && held !== index))) {
        this.#clearSlot(s);
      }
    }
    this.#slotIndex[slot] = index;
    this.#current = index;
    return slot;
  }

  #clearSlot(s: number): void {
    const base = s * this.fields;
    for (let f = 0; f < this.fields; f++) {
      this.#sums[f]! -= this.#counts[base + f]!;
      this.#counts[base + f] = 0;
    }
    this.#slotIndex[s] = -Infinity;
  }
}
