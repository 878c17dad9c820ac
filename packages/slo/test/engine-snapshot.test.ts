import { ManualClock, setErrorHandler } from '@ballast/core';
import { seededRandom } from '@ballast/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { defineSlo } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';
import { persistSloEngine, type SloSnapshotStore } from '../src/engine/persistence.js';
import { isSloSnapshotError, type SloSnapshotError } from '../src/engine/snapshot.js';
import type { SloAlertEvent, SloStatus } from '../src/engine/status.js';
import type { Slo } from '../src/model.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 10, 3, 7, 13);

const availability = defineSlo({
  service: 'checkout',
  name: 'availability',
  objective: 0.99,
  window: '30d',
  indicator: { bad: 'errors_total', total: 'requests_total' },
});
const latency = defineSlo({
  service: 'checkout',
  name: 'latency',
  objective: 0.99,
  window: { calendar: 'week', timeZone: 'Europe/Berlin' },
  indicator: { latency: { histogram: 'http_request_duration_seconds{job="checkout"}', threshold: 0.3 } },
});
const uptime = defineSlo({
  service: 'checkout',
  name: 'uptime',
  objective: 0.9,
  window: '1d',
  budgeting: { timeslices: { target: 0.95, window: '1m' } },
  indicator: { good: 'ok_total', total: 'requests_total' },
});
const SLOS = [availability, latency, uptime];

afterEach(() => {
  setErrorHandler(undefined);
});

function engineAt(clock: ManualClock, slos: readonly Slo[] = SLOS): SloEngine {
  return new SloEngine({ slos, clock, evaluateEveryMs: 0 });
}

/** The figures a restart must not change (the time fields are absolute, so they compare as they are). */
function figures(s: SloStatus) {
  return {
    sli: s.sli,
    events: s.events,
    errorBudget: s.errorBudget,
    burnRates: s.burnRates,
    alerts: s.alerts,
    timeToExhaustionMs: s.timeToExhaustionMs,
    policy: s.policy,
  };
}

/** One minute of traffic on every SLO; `bad` is the share of bad events. */
function traffic(engines: readonly SloEngine[], random: () => number, bad: number): void {
  const n = 5 + Math.floor(random() * 20);
  for (let i = 0; i < n; i++) {
    const ok = random() >= bad;
    const seconds = ok ? random() * 0.3 : 0.3 + random();
    for (const e of engines) {
      e.recordEvent('availability', ok);
      e.recordLatency('latency', seconds);
      e.recordEvent('uptime', ok);
    }
  }
}

describe('SloEngine snapshot and restore', () => {
  it('a restart mid-window gives the same budgets, burn rates and alerts as no restart', () => {
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const clock = new ManualClock(T0);
      const continuous = engineAt(clock);
      let current = engineAt(clock);
      const restartAt = 200 + Math.floor(random() * 300);
      for (let minute = 0; minute < 900; minute++) {
        // A bad stretch in the middle, so budgets are spent and the page conditions fire across the restart.
        const bad = minute > 150 && minute < 420 ? 0.3 : 0.002;
        traffic([continuous, current], random, bad);
        clock.advance(MIN);
        if (minute === restartAt) {
          const text = current.snapshot();
          current.close();
          current = engineAt(clock); // the new process: empty counts, its own start time
          const result = current.restore(text);
          expect(result.restored).toEqual(['availability', 'latency', 'uptime']);
          expect(result.fresh).toEqual([]);
        }
        if (minute % 97 === 0 || minute === restartAt + 1) {
          for (const name of ['availability', 'latency', 'uptime']) {
            expect(figures(current.status(name)), `${name} at minute ${minute}, seed ${seed}`).toEqual(
              figures(continuous.status(name)),
            );
          }
        }
      }
      expect(continuous.status('availability').errorBudget.consumed).toBeGreaterThan(0);
    }
  });

  it('keeps events recorded before the restore and counts the downtime as time observed', () => {
    const clock = new ManualClock(T0);
    const before = engineAt(clock, [availability]);
    before.record('availability', 900, 10);
    clock.advance(HOUR);
    const text = before.snapshot();
    clock.advance(10 * MIN); // down for ten minutes
    const after = engineAt(clock, [availability]);
    after.record('availability', 100, 0); // served before the store answered
    after.restore(text);
    const reference = engineAt(new ManualClock(T0), [availability]);
    const s = after.status('availability');
    expect(s.events).toEqual({ good: 1000, bad: 10 });
    // The budget is projected from the first engine's start (70 minutes observed), as if it never stopped.
    const observed = 70 * MIN;
    expect(s.errorBudget.total).toBeCloseTo(0.01 * 1010 * ((30 * DAY) / observed), 6);
    expect(reference.status('availability').events.good).toBe(0);
  });

  it('does not announce again an alert that was firing before the restart, and ends it with its full duration', () => {
    const clock = new ManualClock(T0);
    const first = engineAt(clock, [availability]);
    const seen: SloAlertEvent[] = [];
    first.onAlert((e) => seen.push(e));
    for (let m = 0; m < 70; m++) {
      first.record('availability', 50, 50);
      clock.advance(MIN);
    }
    first.evaluate();
    const firingSince = seen.find((e) => e.alert === 'page-1h' && e.firing)?.at;
    expect(firingSince).toBeDefined();

    const text = first.snapshot();
    const second = engineAt(clock, [availability]);
    const after: SloAlertEvent[] = [];
    second.onAlert((e) => after.push(e));
    second.restore(text);
    second.evaluate();
    expect(after.filter((e) => e.alert === 'page-1h')).toEqual([]);
    expect(second.status('availability').alerts.find((a) => a.name === 'page-1h')).toMatchObject({
      firing: true,
      since: firingSince,
    });
    for (let m = 0; m < 120; m++) {
      second.record('availability', 100, 0);
      clock.advance(MIN);
    }
    second.evaluate();
    const ended = after.find((e) => e.alert === 'page-1h' && !e.firing);
    expect(ended?.durationMs).toBe(clock.now() - firingSince!);
  });

  it('starts an SLO fresh, with the reason, when it changed, is missing or the snapshot is older than its window', () => {
    const clock = new ManualClock(T0);
    const old = engineAt(clock, [availability, uptime]);
    old.record('availability', 10, 1);
    old.record('uptime', 10, 1);
    const text = old.snapshot();

    const tighter = defineSlo({
      service: 'checkout',
      name: 'availability',
      objective: 0.99,
      window: '30d',
      indicator: { bad: 'errors_total{code="503"}', total: 'requests_total' },
    });
    const changed = engineAt(clock, [tighter, latency, uptime]).restore(text);
    expect(changed.restored).toEqual(['uptime']);
    expect(changed.fresh).toEqual([
      { slo: 'availability', reason: 'its indicator, budgeting or resolution changed since the snapshot' },
      { slo: 'latency', reason: 'not in the snapshot' },
    ]);

    clock.advance(2 * DAY);
    const stale = engineAt(clock, [availability, uptime]);
    const result = stale.restore(text);
    expect(result.restored).toEqual(['availability']);
    expect(result.fresh.map((f) => f.slo)).toEqual(['uptime']);
    expect(result.fresh[0]?.reason).toMatch(/^the snapshot is older than its longest window/);
    expect(stale.status('uptime').events.good).toBe(0);
  });

  it('refuses corrupt, foreign, truncated and future snapshots with an error naming the field', () => {
    const clock = new ManualClock(T0);
    const engine = engineAt(clock, [availability]);
    engine.record('availability', 5, 0);
    const good = JSON.parse(engine.snapshot()) as Record<string, unknown> & {
      slos: Record<string, unknown>[];
    };
    const cases: [string, RegExp][] = [
      ['{"format": "ballast.slo-engine-snapsh', /not JSON/],
      ['[]', /snapshot: expected an object, got an array/],
      [
        JSON.stringify({ ...good, format: 'other' }),
        /snapshot\.format: expected "ballast\.slo-engine-snapshot"/,
      ],
      [JSON.stringify({ ...good, version: 2 }), /snapshot\.version: expected 1 .*got 2 \(number\)/],
      [
        JSON.stringify({ ...good, slos: [{ ...good.slos[0], good: [1, -1] }] }),
        /snapshot\.slos\[0\]\.good\[1\]: expected a finite number >= 0, got -1/,
      ],
      [
        JSON.stringify({ ...good, slos: [{ ...good.slos[0], bad: [1, 2, 3] }] }),
        /snapshot\.slos\[0\]\.bad: expected 1 buckets/,
      ],
      [JSON.stringify({ ...good, takenAt: T0 + DAY }), /snapshot\.takenAt: expected a time before now/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        engine.restore(text);
      } catch (e) {
        error = e;
      }
      expect(isSloSnapshotError(error), text).toBe(true);
      expect((error as SloSnapshotError).message).toMatch(message);
    }
    // Nothing was changed by the refused snapshots.
    expect(engine.status('availability').events.good).toBe(5);
  });
});

function memoryStore(initial?: string): SloSnapshotStore & { saved: string[]; fail: boolean } {
  const store = {
    saved: [] as string[],
    fail: false,
    load: () => Promise.resolve(initial),
    save(snapshot: string) {
      if (store.fail) return Promise.reject(new Error('store down'));
      store.saved.push(snapshot);
      return Promise.resolve();
    },
  };
  return store;
}

describe('persistSloEngine', () => {
  it('restores at start, saves on its timer and on close', async () => {
    const clock = new ManualClock(T0);
    const first = engineAt(clock, [availability]);
    const empty = memoryStore();
    const p1 = await persistSloEngine(first, { store: empty, clock, everyMs: MIN });
    expect(p1.state).toEqual({ start: 'empty', detail: 'no snapshot yet: counting from now' });
    first.record('availability', 99, 1);
    await clock.advanceAsync(MIN);
    await p1.save(); // waits behind the timer's save
    expect(empty.saved.length).toBeGreaterThanOrEqual(2);
    expect(p1.state.lastSavedAt).toBe(clock.now());
    await p1.close();
    await p1.close();

    const second = engineAt(clock, [availability]);
    const p2 = await persistSloEngine(second, { store: memoryStore(empty.saved.at(-1)), clock });
    expect(p2.state.start).toBe('restored');
    expect(p2.state.detail).toBe(
      `restored 1 SLO from a snapshot taken at ${new Date(clock.now()).toISOString()}`,
    );
    expect(second.status('availability').events).toEqual({ good: 99, bad: 1 });
    await p2.close();
  });

  it('starts fresh and says why when the snapshot is corrupt or the store fails; save failures never throw', async () => {
    const errors: unknown[] = [];
    setErrorHandler((error) => errors.push(error));
    const clock = new ManualClock(T0);
    const engine = engineAt(clock, [availability]);
    const corrupt = memoryStore('{"format":');
    const p = await persistSloEngine(engine, { store: corrupt, clock, everyMs: 0 });
    expect(p.state.start).toBe('fresh');
    expect(p.state.detail).toMatch(/^not restored, counting from now: SLO engine snapshot: not JSON/);
    expect(errors.some(isSloSnapshotError)).toBe(true);

    corrupt.fail = true;
    await p.save();
    expect(p.state.lastSaveError).toBe('store down');
    corrupt.fail = false;
    await p.save();
    expect(p.state.lastSaveError).toBeUndefined();
    expect(corrupt.saved).toHaveLength(1);

    const down: SloSnapshotStore = {
      load: () => Promise.reject(new Error('connection refused')),
      save: () => Promise.resolve(),
    };
    const q = await persistSloEngine(engineAt(clock, [availability]), { store: down, clock, everyMs: 0 });
    expect(q.state).toEqual({
      start: 'fresh',
      detail: 'not restored, counting from now: connection refused',
    });
  });

  it('rejects a store without load and save', async () => {
    const engine = engineAt(new ManualClock(T0), [availability]);
    await expect(persistSloEngine(engine, { store: {} as SloSnapshotStore })).rejects.toThrow(
      /store.*load\(\) and save\(\)/,
    );
  });
});
