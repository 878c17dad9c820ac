// The scenarios each generated promtool test runs: traffic shapes (steady, burning, a blip on a young or restarted
// Prometheus) and the alert states expected at each check, from the same burn-rate simulation the rules follow.
import { formatDuration, parseDuration } from '../../duration.js';
import type { BurnRateCondition, Severity, Slo } from '../../model.js';
import { promNumber } from '../generate.js';
import { predictAlerts, type Prediction, type Traffic } from '../simulate.js';
import { CHECKS, TRAFFIC } from './series.js';

export interface Check {
  readonly step: number;
  readonly severity: Severity;
  readonly firing: boolean;
}

export interface Scenario {
  readonly name: string;
  readonly traffic: Traffic;
  readonly checks: readonly Check[];
  /** Steps without a sample (Prometheus was down): the counters kept counting, nobody scraped them. */
  readonly missing?: readonly boolean[];
}

/** The step of the synthetic series: a fifth of the shortest window (a third of a time slice), at most 1m. */
export function stepMs(slo: Slo): number {
  const windows = slo.alerting.conditions.flatMap((c) => [c.shortWindowMs, c.longWindowMs]);
  let step = Math.min(60_000, ...windows.map((w) => w / 5));
  if (slo.budgeting.method === 'Timeslices') step = Math.min(step, slo.budgeting.timesliceWindowMs / 3);
  return Math.max(1000, Math.floor(step / 1000) * 1000);
}

export function steady(steps: number, badPerStep: number): Traffic {
  return { bad: Array<number>(steps).fill(badPerStep), total: Array<number>(steps).fill(TRAFFIC) };
}

export function concat(...parts: Traffic[]): Traffic {
  return { bad: parts.flatMap((p) => p.bad), total: parts.flatMap((p) => p.total) };
}

/**
 * Traffic that burns the budget `burn` times faster than sustainable: for event budgeting, a constant error
 * ratio of `burn × budget`; for time slices, whole slices of errors spaced so that `burn × budget` of the time
 * slices are bad.
 */
export function burning(slo: Slo, steps: number, burn: number, step: number, blocksFirst = true): Traffic {
  const budget = 1 - slo.objective;
  const ratio = Math.min(1, burn * budget);
  if (slo.budgeting.method !== 'Timeslices') return steady(steps, TRAFFIC * ratio);
  if (ratio >= 1) return steady(steps, TRAFFIC);
  const slice = Math.max(1, Math.round(slo.budgeting.timesliceWindowMs / step));
  // A block of bad steps long enough to make its slices bad, and the samples whose trailing slice it touches.
  const block = Math.min(slice, Math.floor(slice * (1 - slo.budgeting.timesliceTarget)) + 1);
  const touched = slice + block - 1;
  const period = Math.max(touched + 1, Math.round(touched / ratio));
  // Blocks open each period (a burst starts with bad slices) or close it (a steady burn starts with good ones).
  const bad = Array.from({ length: steps }, (_, i) =>
    (blocksFirst ? i % period < block : i % period >= period - block) ? TRAFFIC : 0,
  );
  return { bad, total: Array<number>(steps).fill(TRAFFIC) };
}

export function spread(from: number, to: number): number[] {
  const out = new Set<number>();
  for (let k = 0; k < CHECKS; k++) out.add(Math.round(from + ((to - from) * k) / (CHECKS - 1)));
  return [...out].filter((s) => s >= 1);
}

export function maxMs(
  conditions: readonly BurnRateCondition[],
  pick: (c: BurnRateCondition) => number,
): number {
  return Math.max(0, ...conditions.map(pick));
}

export function forMsOf(conditions: readonly BurnRateCondition[]): number {
  return Math.max(0, ...conditions.map((c) => (c.for === undefined ? 0 : (parseDuration(c.for) ?? 0))));
}

/** The Workbook's detection time at `burn`: the fastest page condition's `threshold / burn × long window`. */
export function detectionMs(pages: readonly BurnRateCondition[], burn: number): number | undefined {
  const times = pages.filter((c) => c.burnRate < burn).map((c) => (c.burnRate / burn) * c.longWindowMs);
  return times.length === 0 ? undefined : Math.min(...times);
}

export function scenarios(slo: Slo, step: number, skipped: string[]): Scenario[] {
  const pages = slo.alerting.conditions.filter((c) => c.severity === 'page');
  const tickets = slo.alerting.conditions.filter((c) => c.severity === 'ticket');
  const budget = 1 - slo.objective;
  const steps = (ms: number): number => Math.ceil(ms / step);
  const sliceMs = slo.budgeting.method === 'Timeslices' ? slo.budgeting.timesliceWindowMs : 0;
  const out: Scenario[] = [];
  if (pages.length === 0) {
    skipped.push('no page conditions: nothing to prove about pages');
    return out;
  }
  // Before a slow burn, healthy traffic for the long window of the fastest page condition (1h for the defaults).
  const warm = steps(Math.min(...pages.map((c) => c.longWindowMs))) + 1;
  // Before a sudden burn, healthy traffic for the longest page long window (6h for the defaults): every page
  // condition then judges the burst against a full window of history, as on a Prometheus that has been running.
  const history = steps(maxMs(pages, (c) => c.longWindowMs)) + 1;
  const forMs = forMsOf(pages);
  const predict = (severity: Severity, traffic: Traffic): Prediction[] =>
    predictAlerts(
      slo,
      slo.alerting.conditions.filter((c) => c.severity === severity),
      traffic,
      step,
    );

  // 1. A steady burn of exactly 1x never pages, from the start through the longest page long window (a page
  // condition at or below 1x over any window would fire by then).
  {
    const length = steps(maxMs(pages, (c) => c.longWindowMs)) + warm;
    const traffic = burning(slo, length, 1, step, false);
    out.push({
      name: 'a steady burn of 1x never pages',
      traffic,
      checks: spread(1, length).map((s) => ({ step: s, severity: 'page', firing: false })),
    });
  }

  // 2. A sudden burn of 20x and of 1000x (capped at 100% errors) pages within the Workbook's detection time.
  const maxBurn = 1 / budget;
  const burns = [...new Set([20, 1000].map((b) => Math.min(b, maxBurn)))];
  for (const burn of burns) {
    const detect = detectionMs(pages, burn);
    if (detect === undefined) {
      skipped.push(
        `a sudden ${promNumber(burn)}x burn: no page condition has a burn rate below ${promNumber(burn)}`,
      );
      continue;
    }
    const due = steps(detect + forMs) + 2;
    // 3. After the largest burst, the page resolves within the longest page short window (plus a time slice).
    const recover = burn === burns.at(-1);
    const settle = steps(maxMs(pages, (c) => c.shortWindowMs) + sliceMs) + 2;
    const burst = recover ? due + 1 : due + 2;
    const traffic = concat(
      steady(history, 0),
      burning(slo, burst, burn, step),
      recover ? steady(settle + 1, 0) : steady(0, 0),
    );
    const predicted = predict('page', traffic);
    const checks: Check[] = [{ step: history, severity: 'page', firing: false }];
    const first = predicted.findIndex((p, s) => s > history && p === 'firing');
    // Sharpness: the last step before the predicted page at which it surely has not fired yet.
    if (first > history + 1 && predicted[first - 1] === 'quiet') {
      checks.push({ step: first - 1, severity: 'page', firing: false });
    }
    checks.push({ step: history + due, severity: 'page', firing: true });
    if (recover) {
      checks.push({ step: history + burst, severity: 'page', firing: true });
      checks.push({ step: history + burst + settle, severity: 'page', firing: false });
    }
    out.push({
      name:
        `a sudden ${promNumber(burn)}x burn (error ratio ${promNumber(Math.min(1, burn * budget))}) pages within ` +
        `${formatDuration(Math.ceil((detect + forMs) / 1000) * 1000)} (Workbook detection time) plus two ${formatDuration(step)} steps` +
        (recover
          ? `, and the page resolves within ${formatDuration(settle * step)} after the errors stop`
          : ''),
      traffic,
      checks,
    });
  }

  // 4. A slow burn of 2.5x opens a ticket, never a page.
  {
    const burn = 2.5;
    if (!tickets.some((c) => c.burnRate < burn)) {
      skipped.push('a slow 2.5x burn: no ticket condition has a burn rate below 2.5');
    } else {
      const horizon =
        steps(
          Math.max(
            maxMs(tickets, (c) => c.longWindowMs) + maxMs(tickets, (c) => c.shortWindowMs),
            maxMs(pages, (c) => c.longWindowMs),
          ),
        ) + 4;
      const long = concat(steady(warm, 0), burning(slo, horizon, burn, step));
      const predicted = predict('ticket', long);
      const first = predicted.findIndex((p, s) => s > warm && p === 'firing');
      if (first < 0) {
        skipped.push(
          'a slow 2.5x burn: the ticket conditions are never surely met within their longest window',
        );
      } else {
        // Keep burning through the longest page long window: a page condition at or below 2.5x would fire by then.
        const end = Math.max(first + 2, warm + steps(maxMs(pages, (c) => c.longWindowMs)) + 2);
        const traffic = { bad: long.bad.slice(0, end), total: long.total.slice(0, end) };
        out.push({
          name: `a slow 2.5x burn opens a ticket after ${formatDuration((first - warm) * step)} and never pages`,
          traffic,
          checks: [
            ...spread(warm, end).map((s) => ({ step: s, severity: 'page' as const, firing: false })),
            { step: first, severity: 'ticket', firing: true },
            ...(predicted[end] === 'firing'
              ? [{ step: end, severity: 'ticket' as const, firing: true }]
              : []),
          ],
        });
      }
    }
  }

  // 5. and 6. Short history: a fresh Prometheus, and one restarted on its own storage after 20 minutes down.
  if (slo.budgeting.method === 'Timeslices') {
    skipped.push('short history: the blip scenarios are written for event budgeting');
    return out;
  }
  const fastest = [...pages].sort((a, b) => b.burnRate - a.burnRate)[0]!;
  // A blip that spends half the fastest page's threshold over its long window: it pages only when the window
  // is taken to be the few minutes Prometheus has seen.
  const blip = Math.min(TRAFFIC, 0.5 * fastest.burnRate * budget * TRAFFIC * steps(fastest.longWindowMs));
  const quiet = steps(fastest.shortWindowMs) + 2;
  const outage = detectionMs(pages, maxBurn);
  if (outage === undefined) {
    skipped.push(`short history: no page condition has a burn rate below ${promNumber(maxBurn)}`);
    return out;
  }
  const due = steps(outage + forMs) + 2;
  const afterBlip = (start: number): { traffic: Traffic; checks: Check[] } => {
    const traffic = concat(
      { bad: [blip], total: [TRAFFIC] },
      steady(quiet, 0),
      burning(slo, due + 1, maxBurn, step),
    );
    const checks: Check[] = [];
    for (let s = start; s <= start + quiet; s++) {
      checks.push({ step: s, severity: 'page', firing: false });
      if (tickets.length > 0) checks.push({ step: s, severity: 'ticket', firing: false });
    }
    checks.push({ step: start + quiet + due, severity: 'page', firing: true });
    return { traffic, checks };
  };
  const share = blip / (fastest.burnRate * budget * TRAFFIC * steps(fastest.longWindowMs));
  const blipText =
    `a blip of ${promNumber(blip)} bad events in ${TRAFFIC} ` +
    `(${promNumber(Math.round(share * 1000) / 10)}% of what the ${fastest.longWindow} page needs over its window)`;
  {
    const fresh = steps(10 * 60_000);
    const after = afterBlip(fresh);
    out.push({
      name:
        `a fresh Prometheus with ${formatDuration(fresh * step)} of history does not page on ${blipText}, ` +
        `and pages on a full outage within ${formatDuration(Math.ceil((outage + forMs) / 1000) * 1000)} plus two steps`,
      traffic: concat(steady(fresh - 1, 0), after.traffic),
      checks: after.checks,
    });
  }
  {
    const before = steps(maxMs(pages, (c) => c.longWindowMs)) + 1;
    const down = steps(20 * 60_000);
    const after = afterBlip(before + down);
    const traffic = concat(steady(before + down - 1, 0), after.traffic);
    out.push({
      name:
        `a Prometheus down for ${formatDuration(down * step)} mid-window does not page on ${blipText} after its restart, ` +
        `and pages on a full outage within ${formatDuration(Math.ceil((outage + forMs) / 1000) * 1000)} plus two steps`,
      traffic,
      missing: traffic.total.map((_, i) => i >= before - 1 && i < before + down - 1),
      checks: after.checks,
    });
  }
  return out;
}
