import { defineSlo } from '../src/define.js';
import type { Slo } from '../src/model.js';
import type { ReportEvent } from '../src/report/from-engine.js';

/** Start of the synthetic traffic: Monday 2 November 2026, 00:00 UTC. */
export const START = Date.UTC(2026, 10, 2);
const STEP = 10 * 60_000;
const DAY = 86_400_000;

/**
 * Two weeks of the shop's traffic in 10-minute batches: a daily cycle, a 40-minute checkout outage on day 9 (8%
 * errors: pages), a slow checkout degradation on days 12-13 (0.35%: tickets), slow checkouts from day 11, and a
 * flaky search on day 5. Deterministic: the same events every run.
 */
export function shopEvents(days = 14): ReportEvent[] {
  const events: ReportEvent[] = [];
  for (let t = START; t < START + days * DAY; t += STEP) {
    const day = (t - START) / DAY;
    const hour = (day % 1) * 24;
    const load = Math.round(600 + 500 * Math.sin(((hour - 9) / 24) * 2 * Math.PI));
    let errors = 0.0004;
    if (day >= 8.5 && day < 8.5 + 40 / 1440) errors = 0.08;
    if (day >= 11.5 && day < 13) errors = 0.0035;
    const bad = Math.round(load * errors);
    events.push({ at: t, slo: 'checkout-availability', good: load - bad, bad });
    const slow = Math.round(load * (day >= 11 ? 0.018 : 0.004));
    events.push({ at: t, slo: 'checkout-latency', good: load - slow, bad: slow });
    const failed = day >= 5 && day < 5.2 ? Math.round(load * 0.2) : 0;
    events.push({ at: t, slo: 'search-availability', good: load - failed, bad: failed });
  }
  return events;
}

/** An SLO whose display name and description try to inject HTML, Markdown and templates. */
export function hostileSlo(): Slo {
  return defineSlo({
    service: 'payments',
    name: 'hostile',
    displayName: '<script>alert(1)</script> | *bold* [x](javascript:alert(2))',
    description: '<img src=x onerror=alert(3)> {{constructor.constructor}}',
    objective: 0.99,
    window: '7d',
    indicator: { bad: 'errors_total', total: 'requests_total' },
  });
}
