import { brand, hasBrand } from '@ballast/core';

const kSnapshotError = Symbol.for('ballast.slo.SloSnapshotError');

/** The `format` field of every engine snapshot. */
export const SNAPSHOT_FORMAT = 'ballast.slo-engine-snapshot';
/** The version this build writes and reads. */
export const SNAPSHOT_VERSION = 1;
/** The most buckets one SLO's snapshot may hold (the engine's own limit). */
const MAX_BUCKETS = 1_000_000;

/**
 * A snapshot the engine cannot restore: not JSON, another format or version, or a field of the wrong shape. The
 * message names the field (`snapshot.slos[1].good[5]`) and what was expected.
 *
 * @example
 * ```ts
 * try { engine.restore(text); } catch (e) { if (isSloSnapshotError(e)) console.error(`fresh start: ${e.message}`); }
 * ```
 */
export class SloSnapshotError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SloSnapshotError';
    brand(this, kSnapshotError);
  }
}

/**
 * True when `value` is a {@link SloSnapshotError}, even from another copy of the package.
 *
 * @example
 * ```ts
 * const fresh = isSloSnapshotError(error); // a corrupt snapshot: start with empty counts
 * ```
 */
export function isSloSnapshotError(value: unknown): value is SloSnapshotError {
  return hasBrand(value, kSnapshotError);
}

/**
 * What {@link SloEngine.restore} did: which SLOs got their counts back, and which start fresh and why.
 *
 * @example
 * ```ts
 * const result = engine.restore(text);
 * for (const f of result.fresh) console.warn(`${f.slo}: fresh start (${f.reason})`);
 * ```
 */
export interface SloRestoreResult {
  /** When the snapshot was taken (epoch ms, the engine clock's time). */
  readonly takenAt: number;
  /** SLOs whose counts, start time and alert states were restored. */
  readonly restored: readonly string[];
  /** SLOs that start with empty counts, with the reason (not in the snapshot, definition changed, too old). */
  readonly fresh: readonly { readonly slo: string; readonly reason: string }[];
}

/** One SLO in a snapshot (internal shape; the snapshot is opaque JSON text to its users). */
export interface SavedSlo {
  readonly name: string;
  readonly fingerprint: string;
  readonly startedAt: number;
  readonly first: number;
  readonly good: readonly number[];
  readonly bad: readonly number[];
  readonly conditions: readonly string[];
  readonly firingSince: readonly (number | null)[];
}

/** A whole snapshot (internal shape). */
export interface SavedEngine {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly version: typeof SNAPSHOT_VERSION;
  readonly takenAt: number;
  readonly slos: readonly SavedSlo[];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} (string)`;
  if (typeof value === 'object') return 'an object';
  return `${JSON.stringify(value) ?? typeof value} (${typeof value})`;
}

function fail(path: string, expected: string, got: unknown): never {
  throw new SloSnapshotError(`SLO engine snapshot: ${path}: expected ${expected}, got ${describe(got)}`);
}

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  return value as Record<string, unknown>;
}

function time(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(path, 'a time in epoch milliseconds', value);
  }
  return value;
}

function counts(value: unknown, path: string, length?: number): number[] {
  if (!Array.isArray(value)) fail(path, 'an array of event counts', value);
  if (value.length > MAX_BUCKETS) fail(path, `at most ${MAX_BUCKETS} buckets`, `${value.length} buckets`);
  if (length !== undefined && value.length !== length) {
    fail(path, `${length} buckets (as many as \`good\`)`, `${value.length} buckets`);
  }
  for (const [i, n] of value.entries()) {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0)
      fail(`${path}[${i}]`, 'a finite number >= 0', n);
  }
  return value as number[];
}

/**
 * Parses and checks snapshot text; throws a {@link SloSnapshotError} naming the first field that is wrong.
 */
export function parseSnapshot(text: string): SavedEngine {
  if (typeof text !== 'string') fail('snapshot', 'JSON text', text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SloSnapshotError(
      `SLO engine snapshot: not JSON (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  const root = record(json, 'snapshot');
  if (root.format !== SNAPSHOT_FORMAT) fail('snapshot.format', `"${SNAPSHOT_FORMAT}"`, root.format);
  if (root.version !== SNAPSHOT_VERSION) {
    fail(
      'snapshot.version',
      `${SNAPSHOT_VERSION} (this build reads version ${SNAPSHOT_VERSION} only)`,
      root.version,
    );
  }
  const takenAt = time(root.takenAt, 'snapshot.takenAt');
  if (!Array.isArray(root.slos)) fail('snapshot.slos', 'an array', root.slos);
  const slos = root.slos.map((value, i): SavedSlo => {
    const path = `snapshot.slos[${i}]`;
    const s = record(value, path);
    if (typeof s.name !== 'string' || s.name === '') fail(`${path}.name`, 'an SLO name', s.name);
    if (typeof s.fingerprint !== 'string') fail(`${path}.fingerprint`, 'a string', s.fingerprint);
    const first = s.first;
    if (typeof first !== 'number' || !Number.isSafeInteger(first) || first < 0) {
      fail(`${path}.first`, 'a bucket index (an integer >= 0)', first);
    }
    const good = counts(s.good, `${path}.good`);
    const bad = counts(s.bad, `${path}.bad`, good.length);
    if (!Array.isArray(s.conditions) || s.conditions.some((c) => typeof c !== 'string')) {
      fail(`${path}.conditions`, 'an array of condition names', s.conditions);
    }
    if (!Array.isArray(s.firingSince) || s.firingSince.length !== s.conditions.length) {
      fail(`${path}.firingSince`, 'one time or null per condition', s.firingSince);
    }
    const firingSince = s.firingSince.map((t, j) =>
      t === null ? null : time(t, `${path}.firingSince[${j}]`),
    );
    return {
      name: s.name,
      fingerprint: s.fingerprint,
      startedAt: time(s.startedAt, `${path}.startedAt`),
      first,
      good,
      bad,
      conditions: s.conditions as string[],
      firingSince,
    };
  });
  return { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, takenAt, slos };
}
