import {
  checkNumber,
  EventEmitter,
  invalidOption,
  reportError,
  systemClock,
  type Clock,
  type Event,
  type TimerHandle,
  type TimerOptions,
} from '@ballast/core';
import {
  resolveBudgetPolicy,
  type BudgetPolicy,
  type BudgetPolicyState,
  type ResolvedBudgetPolicy,
} from '../budget-policy.js';
import type { Slo } from '../model.js';
import {
  parseSnapshot,
  SloSnapshotError,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type SavedEngine,
  type SavedSlo,
  type SloRestoreResult,
} from './snapshot.js';
import { SloState } from './slo-state.js';
import type { SloAlertEvent, SloStatus } from './status.js';

/** How far ahead of the clock a snapshot may be dated (clocks of two hosts disagree a little). */
const SNAPSHOT_SKEW_MS = 60_000;

/** The engine's timers are background work: a process whose only pending timer is an engine tick exits. */
const background: TimerOptions = { ref: false };

/**
 * Options of {@link SloEngine}.
 *
 * @example
 * ```ts
 * const options: SloEngineOptions = { slos: [slo], clock: new ManualClock(0), budgetPolicy: { warning: 0.5 } };
 * ```
 */
export interface SloEngineOptions {
  /** The SLOs to track (from {@link defineSlo} or {@link parseSpecs}); names must be unique. */
  readonly slos: readonly Slo[];
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * Bucket length in ms for `Occurrences` SLOs (`Timeslices` SLOs use their slice length). Window sums are exact
   * to within one bucket at the old end (which is counted pro rata). Memory is 16 bytes per bucket.
   * @default 60_000, coarsened to whole minutes for periods over 30 days (about 43,200 buckets per period)
   */
  readonly resolutionMs?: number;
  /** Error-budget policy thresholds. @default { warning: 0.25, exhausted: 0 } */
  readonly budgetPolicy?: BudgetPolicy;
  /**
   * How often the engine evaluates alerts on its own (so {@link SloEngine.onAlert} fires without anyone calling
   * `status`); 0 disables the timer. The timer is background work (`ref: false`): it never keeps the process alive.
   * @default 60_000
   */
  readonly evaluateEveryMs?: number;
  /**
   * How often recording reads the clock. `0` reads it for every event (exact, and the clock read is then most of
   * the cost of recording: about 40 ns for the system clock). A positive value reads it once per that many
   * milliseconds on a timer and stamps events with the cached time: events may land up to that long (plus event
   * loop lag) early, which is noise next to one-minute buckets, and recording gets several times faster. With a
   * {@link ManualClock}, the cached time moves only when timers fire (`advance`, not `set`).
   * @default 0
   */
  readonly timestampResolutionMs?: number;
}

/**
 * The in-process SLO engine: record good and bad events per SLO, read the SLI, error budget, burn rates, time to
 * exhaustion, multi-window multi-burn-rate alert states and the budget policy, and subscribe to alert changes.
 *
 * Recording is O(1) and allocation-free and never throws: unknown SLO names and invalid counts are reported
 * through `reportError` from `@ballast/core` (once per unknown name) and dropped. Reading a status is O(number
 * of windows). Memory is fixed per SLO at construction (about 690 KB for a 30-day window at one-minute buckets).
 *
 * @example
 * ```ts
 * import { SloEngine, defineSlo } from '@ballast/slo';
 * const engine = new SloEngine({ slos: [defineSlo({
 *   service: 'checkout', name: 'checkout-availability', objective: 0.999, window: '30d',
 *   indicator: { bad: 'http_requests_total{code=~"5.."}', total: 'http_requests_total' },
 * })] });
 * engine.onAlert((e) => console.log(e.alert, e.firing));
 * engine.recordEvent('checkout-availability', true);
 * engine.status('checkout-availability').errorBudget.remainingRatio; // 1
 * ```
 */
export class SloEngine {
  readonly #clock: Clock;
  readonly #states = new Map<string, SloState>();
  /** The objectives of each SLO document with several (`objectiveOf.slo`): recording under it records each. */
  readonly #groups = new Map<string, SloState[]>();
  readonly #policy: ResolvedBudgetPolicy;
  readonly #alert = new EventEmitter<SloAlertEvent>();
  readonly #unknown = new Set<string>();
  readonly #evaluateEveryMs: number;
  readonly #timestampResolutionMs: number;
  #timer: TimerHandle | undefined;
  #tickTimer: TimerHandle | undefined;
  /** The cached time events are stamped with when `timestampResolutionMs` > 0. */
  #now = 0;
  #closed = false;

  /** Fires when an alert condition of any SLO starts or stops firing. */
  readonly onAlert: Event<SloAlertEvent> = this.#alert.event;

  constructor(options: SloEngineOptions) {
    if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
    if (!Array.isArray(options.slos)) throw invalidOption('slos', 'an array of SLOs', options.slos);
    this.#clock = options.clock ?? systemClock;
    if (typeof this.#clock.now !== 'function') throw invalidOption('clock', 'a Clock', options.clock);
    const resolutionMs =
      options.resolutionMs === undefined
        ? undefined
        : checkNumber('resolutionMs', options.resolutionMs, 60_000, { min: 1, integer: true });
    this.#policy = resolveBudgetPolicy(options.budgetPolicy);
    this.#evaluateEveryMs = checkNumber('evaluateEveryMs', options.evaluateEveryMs, 60_000, { min: 0 });
    this.#timestampResolutionMs = checkNumber('timestampResolutionMs', options.timestampResolutionMs, 0, {
      min: 0,
    });
    const start = this.#clock.now();
    this.#now = start;
    const slos: readonly Slo[] = options.slos;
    for (const [i, slo] of slos.entries()) {
      const candidate: Partial<Slo> | null = slo;
      if (
        typeof candidate !== 'object' ||
        candidate === null ||
        typeof candidate.name !== 'string' ||
        !candidate.alerting
      ) {
        throw invalidOption(`slos[${i}]`, 'an SLO from defineSlo() or parseSpecs()', slo);
      }
      if (this.#states.has(slo.name)) throw invalidOption(`slos[${i}].name`, 'a unique SLO name', slo.name);
      const state = new SloState(slo, start, resolutionMs);
      this.#states.set(slo.name, state);
      if (slo.objectiveOf !== undefined) {
        const group = this.#groups.get(slo.objectiveOf.slo);
        if (group) group.push(state);
        else this.#groups.set(slo.objectiveOf.slo, [state]);
      }
    }
    for (const [name, group] of this.#groups) {
      if (this.#states.has(name)) {
        throw invalidOption(
          `slos[${slos.indexOf(group[0]!.slo)}].objectiveOf.slo`,
          'a group name that is not also an SLO name',
          name,
        );
      }
    }
    if (this.#evaluateEveryMs > 0) this.#schedule();
    if (this.#timestampResolutionMs > 0) this.#tick();
  }

  #stamp(): number {
    return this.#timestampResolutionMs > 0 ? this.#now : this.#clock.now();
  }

  #tick(): void {
    this.#tickTimer = this.#clock.setTimeout(
      () => {
        this.#tickTimer = undefined;
        this.#now = this.#clock.now();
        if (!this.#closed) this.#tick();
      },
      this.#timestampResolutionMs,
      background,
    );
  }

  /** The SLOs this engine tracks. */
  get slos(): readonly Slo[] {
    return [...this.#states.values()].map((s) => s.slo);
  }

  /** Bytes of bucket storage held for `sloName` (for capacity planning). */
  memoryBytes(sloName: string): number {
    return this.#state(sloName).ring.byteLength;
  }

  /**
   * Records `good` good and `bad` bad events for `sloName` at the clock's current time. Never throws. Given the
   * name of an SLO document with several objectives (`objectiveOf.slo`), records them for each objective.
   */
  record(sloName: string, good: number, bad: number): void {
    const state = this.#states.get(sloName);
    const group = state === undefined ? this.#groups.get(sloName) : undefined;
    if (state === undefined && group === undefined) return this.#unknownSlo(sloName);
    if (!(good >= 0 && bad >= 0 && good + bad < Infinity)) {
      reportError(
        invalidOption('record(good, bad)', 'finite numbers >= 0', [good, bad]),
        `SLO ${sloName}: event dropped`,
      );
      return;
    }
    const t = this.#stamp();
    if (state !== undefined) state.ring.record(t, good, bad);
    else for (const member of group!) member.ring.record(t, good, bad);
  }

  /**
   * Records one event: good when `ok` is true. The fast path for per-request instrumentation. Never throws. Given
   * the name of an SLO document with several objectives, records the event for each objective.
   */
  recordEvent(sloName: string, ok: boolean): void {
    const state = this.#states.get(sloName);
    const t = this.#timestampResolutionMs > 0 ? this.#now : this.#clock.now();
    if (state !== undefined) {
      if (ok) state.ring.record(t, 1, 0);
      else state.ring.record(t, 0, 1);
      return;
    }
    const group = this.#groups.get(sloName);
    if (group === undefined) return this.#unknownSlo(sloName);
    for (const member of group) member.ring.record(t, ok ? 1 : 0, ok ? 0 : 1);
  }

  /** Records one good event. */
  recordGood(sloName: string, count = 1): void {
    this.record(sloName, count, 0);
  }

  /** Records one bad event. */
  recordBad(sloName: string, count = 1): void {
    this.record(sloName, 0, count);
  }

  /**
   * Records one observation of a latency SLO: good when `value` (in the histogram's unit, seconds for
   * `*_seconds`) is at or below the SLO's threshold. Reported and dropped for SLOs that are not latency SLOs.
   * Given the name of an SLO document with several objectives, each objective judges the value against its own
   * threshold (one observation can be good for `lte 1s` and bad for `lte 0.3s`).
   */
  recordLatency(sloName: string, value: number): void {
    const state = this.#states.get(sloName);
    if (state !== undefined) return this.#recordLatency(state, value);
    const group = this.#groups.get(sloName);
    if (group === undefined) return this.#unknownSlo(sloName);
    for (const member of group) this.#recordLatency(member, value);
  }

  #recordLatency(state: SloState, value: number): void {
    const indicator = state.slo.indicator;
    if (indicator.kind !== 'latency') {
      reportError(new TypeError(`SLO ${state.slo.name} is not a latency SLO`), 'recordLatency');
      return;
    }
    const ok = value <= indicator.threshold;
    state.ring.record(this.#stamp(), ok ? 1 : 0, ok ? 0 : 1);
  }

  /**
   * The status of one SLO now. Alert transitions it observes are emitted on {@link onAlert}. Throws a
   * `TypeError` for an unknown name.
   */
  status(sloName: string): SloStatus {
    return this.#state(sloName).status(this.#clock.now(), this.#policy, this.#emit);
  }

  /** The status of every SLO, in the order they were given. */
  statusAll(): SloStatus[] {
    const now = this.#clock.now();
    return [...this.#states.values()].map((s) => s.status(now, this.#policy, this.#emit));
  }

  /** The error-budget policy state of one SLO: gate risky deploys and feature flags on it. */
  policy(sloName: string): BudgetPolicyState {
    return this.status(sloName).policy;
  }

  /** Evaluates every SLO now (emitting alert transitions); the evaluation timer calls this. */
  evaluate(): void {
    try {
      this.statusAll();
    } catch (error) {
      reportError(error, 'SLO evaluation failed');
    }
  }

  /**
   * The engine's state as JSON text: per SLO, the events of every bucket its ring still holds (the longest of its
   * period and alert windows), when it began observing, and since when each alert condition fires. Store it
   * (see {@link persistSloEngine}) and {@link SloEngine.restore} it after a restart, so a restart mid-period loses neither
   * the budget spent nor the alerts firing. Size: a few bytes per bucket with events (one-minute buckets: at most
   * 43,200 per 30-day SLO).
   *
   * @example
   * ```ts
   * await writeFile('slo-state.json', engine.snapshot());
   * ```
   */
  snapshot(): string {
    const now = this.#clock.now();
    const slos: SavedSlo[] = [];
    for (const state of this.#states.values()) {
      state.ring.advanceTo(now);
      const buckets = state.ring.buckets();
      let skip = 0;
      while (skip < buckets.good.length - 1 && buckets.good[skip] === 0 && buckets.bad[skip] === 0) skip++;
      slos.push({
        name: state.slo.name,
        fingerprint: state.fingerprint,
        startedAt: state.startMs,
        first: buckets.first + skip,
        good: buckets.good.slice(skip),
        bad: buckets.bad.slice(skip),
        conditions: state.slo.alerting.conditions.map((c) => c.name),
        firingSince: [...state.firingSince],
      });
    }
    const saved: SavedEngine = { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, takenAt: now, slos };
    return JSON.stringify(saved);
  }

  /**
   * Restores a {@link SloEngine.snapshot}: each SLO gets back its counts (added to any recorded since this engine started),
   * its start time (so the budget is projected over the same observed time as without the restart) and its
   * firing alerts. Events that happened while no engine ran are not there: a restart of a few seconds loses a few
   * seconds of traffic. An SLO starts fresh, said in the result, when it is not in the snapshot, when its
   * indicator, budgeting or resolution changed, or when the snapshot is older than its longest window.
   *
   * Throws a {@link SloSnapshotError} (and changes nothing) when the text is not a snapshot this build reads
   * (corrupt, truncated, another version) or is dated after the clock's time; start fresh then.
   *
   * @example
   * ```ts
   * const result = engine.restore(await readFile('slo-state.json', 'utf8'));
   * console.log(`restored ${result.restored.join(', ')}`);
   * ```
   */
  restore(snapshot: string): SloRestoreResult {
    const saved = parseSnapshot(snapshot);
    const now = this.#clock.now();
    if (saved.takenAt > now + SNAPSHOT_SKEW_MS) {
      throw new SloSnapshotError(
        `SLO engine snapshot: snapshot.takenAt: expected a time before now (${new Date(now).toISOString()}), got ${new Date(saved.takenAt).toISOString()}: was it written by a host whose clock runs ahead?`,
      );
    }
    const byName = new Map<string, SavedSlo>();
    for (const s of saved.slos) if (!byName.has(s.name)) byName.set(s.name, s);
    const restored: string[] = [];
    const fresh: { slo: string; reason: string }[] = [];
    for (const state of this.#states.values()) {
      const name = state.slo.name;
      const s = byName.get(name);
      const r = state.ring.resolutionMs;
      const spanMs = (state.ring.size - 3) * r;
      if (s === undefined) fresh.push({ slo: name, reason: 'not in the snapshot' });
      else if (s.fingerprint !== state.fingerprint) {
        fresh.push({
          slo: name,
          reason: 'its indicator, budgeting or resolution changed since the snapshot',
        });
      } else if (saved.takenAt < now - spanMs) {
        fresh.push({ slo: name, reason: `the snapshot is older than its longest window (${spanMs} ms)` });
      } else if ((s.first + s.good.length - 1) * r > saved.takenAt) {
        fresh.push({ slo: name, reason: 'the snapshot holds events after its own time' });
      } else {
        const sameConditions =
          s.conditions.length === state.slo.alerting.conditions.length &&
          s.conditions.every((c, i) => c === state.slo.alerting.conditions[i]!.name);
        state.restore(s, sameConditions ? s.firingSince : undefined, now);
        restored.push(name);
      }
    }
    return { takenAt: saved.takenAt, restored, fresh };
  }

  /** Stops the evaluation and timestamp timers. Recording and `status` keep working. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#tickTimer !== undefined) this.#clock.clearTimeout(this.#tickTimer);
    this.#timer = undefined;
    this.#tickTimer = undefined;
  }

  readonly #emit = (event: SloAlertEvent): void => {
    if (this.#alert.hasListeners) this.#alert.emit(event);
  };

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.evaluate();
        if (!this.#closed) this.#schedule();
      },
      this.#evaluateEveryMs,
      background,
    );
  }

  #state(sloName: string): SloState {
    const state = this.#states.get(sloName);
    if (state === undefined) {
      throw invalidOption(
        'sloName',
        `one of ${[...this.#states.keys()].map((n) => `'${n}'`).join(', ')}`,
        sloName,
      );
    }
    return state;
  }

  #unknownSlo(sloName: string): void {
    if (this.#unknown.has(sloName) || this.#unknown.size > 100) return;
    this.#unknown.add(sloName);
    reportError(new TypeError(`No SLO named ${JSON.stringify(sloName)}; events dropped`), 'SloEngine.record');
  }
}
