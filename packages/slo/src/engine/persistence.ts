import {
  checkNumber,
  invalidOption,
  reportError,
  systemClock,
  type Clock,
  type TimerHandle,
} from '@ballast/core';
import type { SloEngine } from './engine.js';
import type { SloRestoreResult } from './snapshot.js';

/**
 * Where {@link persistSloEngine} keeps the engine's snapshot: one text value, overwritten on each save (a database
 * row, a Redis key, a file).
 *
 * @example
 * ```ts
 * const store: SloSnapshotStore = {
 *   load: async () => (existsSync(path) ? readFile(path, 'utf8') : undefined),
 *   save: (snapshot) => writeFile(path, snapshot),
 * };
 * ```
 */
export interface SloSnapshotStore {
  /** The last snapshot saved, or `undefined` when there is none. */
  load(): Promise<string | undefined>;
  /** Replaces the snapshot; `takenAt` is its time (epoch ms, the engine's clock). */
  save(snapshot: string, takenAt: number): Promise<void>;
}

/**
 * Options of {@link persistSloEngine}.
 *
 * @example
 * ```ts
 * const options: SloPersistenceOptions = { store, clock: new ManualClock(0), everyMs: 30_000 };
 * ```
 */
export interface SloPersistenceOptions {
  /** Where the snapshot is loaded from at start and saved to. */
  readonly store: SloSnapshotStore;
  /** Drives the save timer (use the engine's). @default systemClock */
  readonly clock?: Clock;
  /**
   * How often a snapshot is saved, in ms; a crash loses at most this much of the counts. `0` saves only on
   * {@link SloPersistence.close}. The timer never keeps the process alive.
   * @default 60_000
   */
  readonly everyMs?: number;
}

/**
 * How the engine's state started and how saving goes, for a status page.
 *
 * @example
 * ```ts
 * const { start, detail } = persistence.state; // 'restored', 'restored 3 SLOs from a snapshot taken at ...'
 * ```
 */
export interface SloPersistenceState {
  /**
   * `restored`: the snapshot was restored (some SLOs may still start fresh, see `result`); `empty`: there was no
   * snapshot; `fresh`: the snapshot could not be read or restored (corrupt, another version, store down): empty
   * counts, and `detail` says why.
   */
  readonly start: 'restored' | 'empty' | 'fresh';
  /** One sentence for people: what was restored, or why the engine started fresh. */
  readonly detail: string;
  /** What the restore did, when a snapshot was restored. */
  readonly result?: SloRestoreResult;
  /** When the last snapshot was saved (epoch ms). */
  readonly lastSavedAt?: number;
  /** Why the last save failed, while saves fail (cleared by the next success). */
  readonly lastSaveError?: string;
}

/**
 * A running persistence of one engine's state: saves on a timer and on close.
 *
 * @example
 * ```ts
 * const persistence = await persistSloEngine(engine, { store });
 * process.on('SIGTERM', () => void persistence.close()); // saves once more
 * ```
 */
export interface SloPersistence {
  /** How the engine's state started, and how saving goes (changes as saves succeed or fail). */
  readonly state: SloPersistenceState;
  /** Saves a snapshot now. Never throws: a failure is reported and kept in `state.lastSaveError`. */
  save(): Promise<void>;
  /** Stops the timer and saves a last snapshot (call it before the store closes). Safe to call twice. */
  close(): Promise<void>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes an {@link SloEngine}'s error budgets survive restarts: loads the last snapshot from `store` and restores
 * it into `engine` (call it right after creating the engine), then saves a snapshot every `everyMs` and on
 * `close()`. A snapshot that cannot be restored (corrupt, another version, dated in the future) or a store that
 * fails to load does not stop the service: the engine starts with empty counts, the error is reported
 * (`reportError`) and `state` says why.
 *
 * @example
 * ```ts
 * import { persistSloEngine, SloEngine } from '@ballast/slo';
 * const engine = new SloEngine({ slos });
 * const persistence = await persistSloEngine(engine, { store: myStore, everyMs: 60_000 });
 * console.log(persistence.state.detail); // "restored 2 SLOs from a snapshot taken at 2026-12-06T19:40:00.000Z"
 * ```
 */
export async function persistSloEngine(
  engine: SloEngine,
  options: SloPersistenceOptions,
): Promise<SloPersistence> {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  const store = options.store;
  if (typeof store?.load !== 'function' || typeof store.save !== 'function') {
    throw invalidOption('store', 'an object with load() and save()', store);
  }
  const clock = options.clock ?? systemClock;
  const everyMs = checkNumber('everyMs', options.everyMs, 60_000, { min: 0 });

  let state: SloPersistenceState;
  try {
    const text = await store.load();
    if (text === undefined) state = { start: 'empty', detail: 'no snapshot yet: counting from now' };
    else {
      const result = engine.restore(text);
      const fresh = result.fresh.map((f) => `${f.slo} (${f.reason})`);
      state = {
        start: 'restored',
        result,
        detail:
          `restored ${result.restored.length} SLO${result.restored.length === 1 ? '' : 's'} from a snapshot taken at ${new Date(result.takenAt).toISOString()}` +
          (fresh.length > 0 ? `; fresh: ${fresh.join(', ')}` : ''),
      };
    }
  } catch (error) {
    reportError(error, 'SLO engine state not restored; counting from now');
    state = { start: 'fresh', detail: `not restored, counting from now: ${message(error)}` };
  }

  let timer: TimerHandle | undefined;
  let closed = false;
  let saving: Promise<void> | undefined;
  const saveNow = async (): Promise<void> => {
    try {
      const takenAt = clock.now();
      await store.save(engine.snapshot(), takenAt);
      const { lastSaveError: _cleared, ...rest } = state;
      state = { ...rest, lastSavedAt: takenAt };
    } catch (error) {
      reportError(error, 'SLO engine snapshot not saved');
      state = { ...state, lastSaveError: message(error) };
    }
  };
  // One save at a time: a slow store never gets two writes racing (the later one could be the older snapshot).
  const save = (): Promise<void> => {
    const next = (saving ?? Promise.resolve()).then(saveNow);
    saving = next;
    return next;
  };
  const schedule = () => {
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        void save().finally(() => {
          if (!closed) schedule();
        });
      },
      everyMs,
      { ref: false },
    );
  };
  if (everyMs > 0) schedule();

  return {
    get state() {
      return state;
    },
    save,
    async close() {
      if (closed) return saving;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await save();
    },
  };
}
