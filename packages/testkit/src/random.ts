/**
 * A small seeded pseudo-random generator (mulberry32) for property tests and fuzzing: every run checks the same
 * cases, and a failing case is replayed from its seed. Not for anything that needs unpredictability.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random(); // the same number in [0, 1) on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
