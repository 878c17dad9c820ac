/**
 * Fixed-resolution event counts over time in a ring buffer of cumulative sums.
 *
 * Slot `b % size` holds the running totals of good and bad events up to the end of bucket `b` (bucket `b` covers
 * `[b * resolution, (b + 1) * resolution)` in epoch milliseconds). Recording adds to the head bucket's totals
 * (O(1)); moving into a later bucket copies the totals forward, at most `size` slots, so the cost is amortised
 * over the time that passed. The sum over any window is the difference of two totals (O(1)); the oldest,
 * partly covered bucket is counted pro rata, so a window of 5m is 5m long, not "the last 5 buckets".
 *
 * With time-slice budgeting, each completed bucket is also classified as a good or bad slice (a bucket is one
 * slice) and running totals of good and bad slices are kept the same way. Memory: 16 bytes per bucket, 32 with
 * slices.
 */
export class EventRing {
  readonly resolutionMs: number;
  readonly size: number;
  readonly #good: Float64Array;
  readonly #bad: Float64Array;
  readonly #goodSlices: Float64Array | undefined;
  readonly #badSlices: Float64Array | undefined;
  readonly #sliceTarget: number;
  /** Absolute index of the newest bucket. */
  #head: number;
  /** Absolute index of the first bucket; totals before it are zero. */
  readonly #first: number;

  /**
   * @param resolutionMs - bucket length.
   * @param spanMs - the longest window that will be summed; the ring keeps a little more.
   * @param startMs - time of the first bucket (totals before it are zero).
   * @param sliceTarget - with time slices, the good-event ratio that makes a bucket a good slice.
   */
  constructor(resolutionMs: number, spanMs: number, startMs: number, sliceTarget?: number) {
    this.resolutionMs = resolutionMs;
    this.size = Math.ceil(spanMs / resolutionMs) + 3;
    this.#good = new Float64Array(this.size);
    this.#bad = new Float64Array(this.size);
    this.#head = Math.max(0, Math.floor(startMs / resolutionMs));
    this.#first = this.#head;
    this.#sliceTarget = sliceTarget ?? NaN;
    if (sliceTarget !== undefined) {
      this.#goodSlices = new Float64Array(this.size);
      this.#badSlices = new Float64Array(this.size);
    }
  }

  /** Bytes held by the typed arrays. */
  get byteLength(): number {
    return (
      this.#good.byteLength +
      this.#bad.byteLength +
      (this.#goodSlices?.byteLength ?? 0) +
      (this.#badSlices?.byteLength ?? 0)
    );
  }

  /** Adds events at time `t`. Events earlier than the head bucket (a clock that stepped back) count in the head. */
  record(t: number, good: number, bad: number): void {
    const b = Math.floor(t / this.resolutionMs);
    if (b > this.#head) this.advance(b);
    const slot = this.#head % this.size;
    this.#good[slot]! += good;
    this.#bad[slot]! += bad;
  }

  /** Moves the head to the bucket holding time `t` (no-op when `t` is not later). */
  advanceTo(t: number): void {
    const b = Math.floor(t / this.resolutionMs);
    if (b > this.#head) this.advance(b);
  }

  private advance(b: number): void {
    const size = this.size;
    const from = this.#head % size;
    const good = this.#good;
    const bad = this.#bad;
    const g = good[from]!;
    const x = bad[from]!;
    const steps = Math.min(b - this.#head, size);
    if (this.#goodSlices && this.#badSlices) {
      const prev = (this.#head - 1 + size) % size;
      const events = g + x - (good[prev]! + bad[prev]!);
      let gs = this.#goodSlices[from]!;
      let bs = this.#badSlices[from]!;
      if (events > 0) {
        if ((g - good[prev]!) / events >= this.#sliceTarget) gs += 1;
        else bs += 1;
      }
      this.#goodSlices[from] = gs;
      this.#badSlices[from] = bs;
      for (let i = 1; i <= steps; i++) {
        const slot = (b - steps + i) % size;
        this.#goodSlices[slot] = gs;
        this.#badSlices[slot] = bs;
      }
    }
    for (let i = 1; i <= steps; i++) {
      const slot = (b - steps + i) % size;
      good[slot] = g;
      bad[slot] = x;
    }
    this.#head = b;
  }

  /**
   * Good and bad events in `[start, now]`, where `now` is in the head bucket (call {@link advanceTo} first).
   * The bucket holding `start` is counted in proportion to the part of it inside the window. `start` must not be
   * more than `size - 3` buckets before the head.
   */
  sum(start: number, now: number, out: Counts): Counts {
    const r = this.resolutionMs;
    const size = this.size;
    const head = this.#head;
    let sb = Math.floor(start / r);
    let frac = 1 - (start - sb * r) / r;
    if (sb > head) {
      out.good = 0;
      out.bad = 0;
      return out;
    }
    if (sb === head) {
      // The whole window lies inside the head bucket: take its share of the head bucket's events so far.
      const elapsed = now - sb * r;
      frac = elapsed > 0 ? Math.min(1, Math.max(0, now - start) / elapsed) : 1;
    }
    if (sb < this.#first) {
      sb = this.#first - 1;
      frac = 0;
    }
    if (head - sb > size - 3) {
      sb = head - (size - 3);
      frac = 1;
    }
    const hs = head % size;
    const s = (sb + size) % size;
    const p = (sb - 1 + 2 * size) % size;
    const good = this.#good;
    const bad = this.#bad;
    const gs = good[s]!;
    const bs = bad[s]!;
    out.good = good[hs]! - gs + frac * (gs - good[p]!);
    out.bad = bad[hs]! - bs + frac * (bs - bad[p]!);
    if (sb === head) {
      out.good = frac * (gs - good[p]!);
      out.bad = frac * (bs - bad[p]!);
    }
    return out;
  }

  /**
   * The events of each bucket the ring still holds (not running totals), oldest first: bucket `first + i` holds
   * `good[i]` good and `bad[i]` bad events. Replaying them with {@link record} into a ring that starts at `first`
   * rebuilds this ring's window sums and slice classifications exactly.
   */
  buckets(): { first: number; good: number[]; bad: number[] } {
    const size = this.size;
    const head = this.#head;
    // Slots hold buckets (head - size, head]; a delta needs its predecessor's total too, except at #first.
    const first = Math.max(this.#first, head - size + 2);
    const good: number[] = [];
    const bad: number[] = [];
    for (let b = first; b <= head; b++) {
      const slot = b % size;
      const prev = (b - 1 + size) % size;
      const atFirst = b === this.#first;
      good.push(this.#good[slot]! - (atFirst ? 0 : this.#good[prev]!));
      bad.push(this.#bad[slot]! - (atFirst ? 0 : this.#bad[prev]!));
    }
    return { first, good, bad };
  }

  /** Completed good and bad slices whose bucket starts at or after `start` (time slices only). */
  sumSlices(start: number, out: Counts): Counts {
    const goodSlices = this.#goodSlices;
    const badSlices = this.#badSlices;
    if (!goodSlices || !badSlices) {
      out.good = 0;
      out.bad = 0;
      return out;
    }
    const r = this.resolutionMs;
    const size = this.size;
    const head = this.#head;
    // First bucket fully inside the window; its predecessor's totals are the base.
    let first = Math.max(Math.ceil(start / r), this.#first);
    if (head - first > size - 3) first = head - (size - 3);
    if (first >= head) {
      out.good = 0;
      out.bad = 0;
      return out;
    }
    // Slot `head` carries the totals of completed slices only (the head slice is classified when it completes).
    const hs = head % size;
    const base = (first - 1 + size) % size;
    out.good = goodSlices[hs]! - goodSlices[base]!;
    out.bad = badSlices[hs]! - badSlices[base]!;
    return out;
  }
}

/** A pair of event (or slice) counts; reused to avoid allocation. */
export interface Counts {
  good: number;
  bad: number;
}
