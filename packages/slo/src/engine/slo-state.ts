import { invalidOption } from '@ballast/core';
import { longestPeriodMs, periodMs, type Slo } from '../model.js';
import type { ResolvedBudgetPolicy } from '../budget-policy.js';
import { alertStatus, assembleStatus, burnRate, conditionFires, remainingRatio } from './assemble.js';
import { calendarPeriod, type CalendarPeriod } from './calendar.js';
import { EventRing, type Counts } from './ring.js';
import type { AlertStatus, BurnRate, SloAlertEvent, SloStatus } from './status.js';

const MINUTE_MS = 60_000;
/** Buckets per period the automatic resolution aims at: 1 minute for 30 days. */
const TARGET_BUCKETS = 43_200;
/** The most buckets one SLO may hold (32 MB with time slices). */
const MAX_BUCKETS = 1_000_000;

/**
 * The bucket length for an SLO: the slice length with `Timeslices`; otherwise `resolutionMs` when given, else
 * one minute, coarsened to whole minutes for periods over 30 days so a ring stays near 43,200 buckets.
 */
export function resolutionFor(slo: Slo, resolutionMs: number | undefined): number {
  if (slo.budgeting.method === 'Timeslices') return slo.budgeting.timesliceWindowMs;
  if (resolutionMs !== undefined) return resolutionMs;
  return Math.max(MINUTE_MS, Math.ceil(periodMs(slo.timeWindow) / TARGET_BUCKETS / MINUTE_MS) * MINUTE_MS);
}

interface Units {
  /** Good units: events, or completed good slices with time slices. */
  readonly good: number;
  readonly bad: number;
  readonly goodEvents: number;
  readonly badEvents: number;
}

interface WindowSpec {
  readonly window: string;
  readonly ms: number;
}

/** The mutable per-SLO state of the engine: the ring of counts, alert states and the cached calendar period. */
export class SloState {
  readonly slo: Slo;
  ring: EventRing;
  #startMs: number;
  readonly #span: number;
  readonly #windows: readonly WindowSpec[];
  readonly #firingSince: (number | null)[];
  readonly #errorRatio: number;
  readonly #tteWindow: number;
  #calendar: CalendarPeriod | undefined;
  readonly #counts: Counts = { good: 0, bad: 0 };

  constructor(slo: Slo, startMs: number, resolutionMs: number | undefined) {
    this.slo = slo;
    this.#startMs = startMs;
    const windows = new Map<number, string>();
    for (const c of slo.alerting.conditions) {
      windows.set(c.longWindowMs, c.longWindow);
      windows.set(c.shortWindowMs, c.shortWindow);
    }
    this.#windows = [...windows].sort((a, b) => a[0] - b[0]).map(([ms, window]) => ({ ms, window }));
    const span = Math.max(longestPeriodMs(slo.timeWindow), ...windows.keys());
    const r = resolutionFor(slo, resolutionMs);
    if (span / r > MAX_BUCKETS) {
      throw invalidOption(
        slo.budgeting.method === 'Timeslices' ? `${slo.name}: timesliceWindow` : 'resolutionMs',
        `at most ${MAX_BUCKETS.toLocaleString('en-US')} buckets per SLO (${Math.ceil(span / MAX_BUCKETS)} ms or more for this SLO's window)`,
        r,
      );
    }
    this.#span = span;
    this.ring = this.#newRing(r, startMs);
    this.#firingSince = slo.alerting.conditions.map(() => null);
    this.#errorRatio = 1 - slo.objective;
    const longs = slo.alerting.conditions.map((c) => c.longWindowMs);
    this.#tteWindow = longs.length > 0 ? Math.min(...longs) : 3_600_000;
  }

  #newRing(resolutionMs: number, startMs: number): EventRing {
    const slo = this.slo;
    return new EventRing(
      resolutionMs,
      this.#span,
      startMs,
      slo.budgeting.method === 'Timeslices' ? slo.budgeting.timesliceTarget : undefined,
    );
  }

  /** When this state began observing (the engine's start, or the restored state's). */
  get startMs(): number {
    return this.#startMs;
  }

  /**
   * What must not change between a snapshot and its restore for its counts to mean the same: the indicator (what
   * an event is), the budgeting (slices) and the bucket length.
   */
  get fingerprint(): string {
    const { indicator, budgeting } = this.slo;
    return JSON.stringify({ indicator, budgeting, resolutionMs: this.ring.resolutionMs });
  }

  /** The conditions' firing-since times (epoch ms, null when not firing), in condition order. */
  get firingSince(): readonly (number | null)[] {
    return this.#firingSince;
  }

  /**
   * Merges a snapshot's buckets (older) with the events recorded since this state began, into a new ring that
   * starts at the snapshot's first bucket; takes the snapshot's start time and, for conditions not firing now,
   * its firing-since times (so an alert that fired before the restart is not announced again).
   */
  restore(
    saved: { startedAt: number; first: number; good: readonly number[]; bad: readonly number[] },
    firingSince: readonly (number | null)[] | undefined,
    now: number,
  ): void {
    const r = this.ring.resolutionMs;
    const mine = this.ring.buckets();
    const counts = new Map<number, [number, number]>();
    const add = (first: number, good: readonly number[], bad: readonly number[]) => {
      for (let i = 0; i < good.length; i++) {
        const g = good[i]!;
        const b = bad[i]!;
        if (g === 0 && b === 0) continue;
        const c = counts.get(first + i);
        if (c) {
          c[0] += g;
          c[1] += b;
        } else counts.set(first + i, [g, b]);
      }
    };
    add(saved.first, saved.good, saved.bad);
    add(mine.first, mine.good, mine.bad);
    const first = Math.min(saved.first, mine.first);
    const ring = this.#newRing(r, first * r);
    for (const bucket of [...counts.keys()].sort((a, b) => a - b)) {
      const [g, b] = counts.get(bucket)!;
      ring.record(bucket * r, g, b);
    }
    ring.advanceTo(now);
    this.ring = ring;
    this.#startMs = Math.min(this.#startMs, saved.startedAt);
    if (firingSince && firingSince.length === this.#firingSince.length) {
      for (let i = 0; i < firingSince.length; i++) this.#firingSince[i] ??= firingSince[i] ?? null;
    }
  }

  #period(now: number): { start: number; end: number; length: number } {
    const w = this.slo.timeWindow;
    if (w.kind === 'rolling') return { start: now - w.durationMs, end: now, length: w.durationMs };
    let p = this.#calendar;
    if (!p || now < p.start || now >= p.end) p = this.#calendar = calendarPeriod(now, w);
    return { start: p.start, end: p.end, length: p.end - p.start };
  }

  /** Good and bad units (events, or slices with time slices) in `[start, now]`, plus the events in it. */
  #units(start: number, now: number): Units {
    const c = this.ring.sum(start, now, this.#counts);
    const goodEvents = c.good;
    const badEvents = c.bad;
    if (this.slo.budgeting.method !== 'Timeslices') {
      return { good: goodEvents, bad: badEvents, goodEvents, badEvents };
    }
    const s = this.ring.sumSlices(start, this.#counts);
    return { good: s.good, bad: s.bad, goodEvents, badEvents };
  }

  #burn(window: WindowSpec, now: number): BurnRate {
    return burnRate(window.window, window.ms, this.#units(now - window.ms, now), this.#errorRatio);
  }

  /** Computes the status at `now`; calls `emit` for each alert that changed state. */
  status(
    now: number,
    policy: ResolvedBudgetPolicy,
    emit: ((e: SloAlertEvent) => void) | undefined,
  ): SloStatus {
    const slo = this.slo;
    this.ring.advanceTo(now);
    const period = this.#period(now);
    const u = this.#units(period.start, now);
    const observedStart = Math.max(period.start, this.#startMs);
    const elapsed = Math.max(Math.min(now, period.end) - observedStart, this.ring.resolutionMs);
    let totalUnits: number;
    if (slo.budgeting.method === 'Timeslices') {
      totalUnits = period.length / slo.budgeting.timesliceWindowMs;
    } else {
      const seen = u.good + u.bad;
      totalUnits = elapsed >= period.length ? seen : (seen * period.length) / elapsed;
    }
    const budgetTotal = this.#errorRatio * totalUnits;
    const remaining = remainingRatio(u.bad, budgetTotal);

    const burnRates = this.#windows.map((w) => this.#burn(w, now));
    const byMs = new Map(burnRates.map((b) => [b.windowMs, b]));
    const minEvents = slo.alerting.minEvents;
    const alerts: AlertStatus[] = slo.alerting.conditions.map((c, i) => {
      const long = byMs.get(c.longWindowMs)!;
      const short = byMs.get(c.shortWindowMs)!;
      const firing = conditionFires(long, short, c.burnRate, minEvents);
      const since = this.#firingSince[i] ?? null;
      const changed = firing !== (since !== null);
      if (changed) this.#firingSince[i] = firing ? now : null;
      const status = alertStatus(c, long, short, firing, this.#firingSince[i] ?? null);
      if (changed && emit) {
        const { name, since: _since, ...rest } = status;
        emit({
          slo: slo.name,
          service: slo.service,
          alert: name,
          ...rest,
          at: now,
          ...(firing || since === null ? {} : { durationMs: now - since }),
        });
      }
      return status;
    });

    const referenceRate =
      remaining > 0
        ? (byMs.get(this.#tteWindow) ?? this.#burn({ window: '', ms: this.#tteWindow }, now)).rate
        : 0;
    return assembleStatus({
      slo,
      now,
      period,
      units: u,
      budgetTotal,
      burnRates,
      alerts,
      referenceRate,
      policy,
    });
  }
}
