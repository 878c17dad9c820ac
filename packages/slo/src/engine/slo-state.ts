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
  readonly ring: EventRing;
  readonly #startMs: number;
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
    this.ring = new EventRing(
      r,
      span,
      startMs,
      slo.budgeting.method === 'Timeslices' ? slo.budgeting.timesliceTarget : undefined,
    );
    this.#firingSince = slo.alerting.conditions.map(() => null);
    this.#errorRatio = 1 - slo.objective;
    const longs = slo.alerting.conditions.map((c) => c.longWindowMs);
    this.#tteWindow = longs.length > 0 ? Math.min(...longs) : 3_600_000;
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
