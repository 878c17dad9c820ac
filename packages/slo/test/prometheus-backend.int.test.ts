import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheusStatus } from '../examples/prometheus-status.js';
import { defineSlo } from '../src/define.js';
import { SloEngine } from '../src/engine/engine.js';
import type { SloStatus } from '../src/engine/status.js';
import type { Slo } from '../src/model.js';
import { PrometheusBackend } from '../src/prometheus/backend.js';
import { generateRules } from '../src/rules/generate.js';
import { isPrometheusQueryError, PrometheusClient } from '../src/prometheus/client.js';
import { tool } from './rules-tools.js';

const hasPrometheus = tool('prometheus');

// Alert windows longer than the test, so every window holds every event (see the tolerance below).
const conditions = [
  { severity: 'page' as const, burnRate: 14.4, longWindow: '20m', shortWindow: '10m' },
  { severity: 'ticket' as const, burnRate: 3, longWindow: '40m', shortWindow: '15m' },
];

const slos: Slo[] = [
  defineSlo({
    service: 'shop',
    name: 'availability',
    objective: 0.99,
    window: '1h',
    indicator: { bad: 'shop_requests_total{code=~"5.."}', total: 'shop_requests_total' },
    alerting: { conditions, minEvents: 10 },
  }),
  defineSlo({
    service: 'shop',
    name: 'answers',
    objective: 0.98,
    window: '2h',
    // A count expression: the generator divides it by the window's seconds to get a rate like the selector.
    indicator: {
      good: 'sum(increase(shop_requests_total{code!~"5.."}[{{.window}}]))',
      total: 'shop_requests_total',
    },
    alerting: { conditions },
  }),
  defineSlo({
    service: 'shop',
    name: 'latency',
    objective: 0.95,
    // A calendar day in Berlin: a window the rules cannot express, read by the backend from the period start.
    window: { calendar: 'day', timeZone: 'Europe/Berlin' },
    indicator: { latency: { histogram: 'shop_request_duration_seconds', threshold: 0.3 } },
    alerting: { conditions },
  }),
];

/** The exporter's state: counters the test drives, exposed in the Prometheus text format. */
const counters = { ok: 0, failed: 0, fast: 0, slow: 0 };

function exposition(): string {
  return [
    '# TYPE shop_requests_total counter',
    `shop_requests_total{code="200"} ${counters.ok}`,
    `shop_requests_total{code="503"} ${counters.failed}`,
    '# TYPE shop_request_duration_seconds histogram',
    `shop_request_duration_seconds_bucket{le="0.1"} ${counters.fast}`,
    `shop_request_duration_seconds_bucket{le="0.3"} ${counters.fast}`,
    `shop_request_duration_seconds_bucket{le="1"} ${counters.fast + counters.slow}`,
    `shop_request_duration_seconds_bucket{le="+Inf"} ${counters.fast + counters.slow}`,
    `shop_request_duration_seconds_count ${counters.fast + counters.slow}`,
    `shop_request_duration_seconds_sum ${counters.fast * 0.05 + counters.slow * 0.6}`,
    '',
  ].join('\n');
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns a value (Prometheus scrapes on its own schedule); fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  while (performance.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}

describe.skipIf(hasPrometheus.skip)('PrometheusBackend against a real Prometheus', () => {
  let dir: string;
  let exporter: Server;
  let prometheus: ChildProcess | undefined;
  let log = '';
  let url: string;
  let client: PrometheusClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-prometheus-'));
    exporter = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(exposition());
    });
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${(exporter.address() as AddressInfo).port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files: [slo-rules.yml]',
        'scrape_configs:',
        '  - job_name: shop',
        '    static_configs:',
        `      - targets: ['${target}']`,
        '',
      ].join('\n'),
    );
    // The generated rules run in this Prometheus too, so the test also checks them against the engine. The
    // metadata (budget left, period figures) at the 1s evaluation interval too, not at its 2m default.
    writeFileSync(
      join(dir, 'slo-rules.yml'),
      generateRules(slos, { metaInterval: '1s', ticketInterval: '1s' }).yaml,
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    prometheus.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    client = new PrometheusClient({ url });
    await until(`Prometheus to be ready at ${url}`, async () =>
      (await fetch(`${url}/-/ready`)).ok ? true : undefined,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\nprometheus log:\n${log}`);
    });
  }, 30_000);

  afterAll(async () => {
    const child = prometheus;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise((resolve) => exporter?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Waits for the scrape that shows the current counters; returns its timestamp (epoch ms). */
  async function scraped(): Promise<number> {
    return until('a scrape of the new counter values', async () => {
      const [sample] = await client.query(
        `timestamp(shop_requests_total{code="503"}) and on() (shop_requests_total{code="503"} == ${counters.failed}) ` +
          `and on() (shop_requests_total{code="200"} == ${counters.ok}) and on() (shop_request_duration_seconds_count == ${counters.fast + counters.slow})`,
        Date.now(),
      );
      return sample === undefined ? undefined : Math.round(sample.value * 1000);
    });
  }

  it('computes the same status as the engine for the same events', { timeout: 60_000 }, async () => {
    // Every series is scraped at 0 before the first event, so the first sample of each window is 0.
    const start = await scraped();
    const clock = new ManualClock(start);
    const engine = new SloEngine({ slos, clock, resolutionMs: 1000, evaluateEveryMs: 0 });
    const batches = [
      { ok: 900, failed: 12, fast: 880, slow: 32 },
      { ok: 400, failed: 70, fast: 400, slow: 70 },
      { ok: 1200, failed: 3, fast: 1150, slow: 53 },
    ];
    let last = start;
    // When the last batch was seen committed: a scrape's samples carry the time it started, and a rule evaluated
    // after that time but before the scrape finished does not see them.
    let visible = start;
    for (const batch of batches) {
      counters.ok += batch.ok;
      counters.failed += batch.failed;
      counters.fast += batch.fast;
      counters.slow += batch.slow;
      // The engine sees each batch at the timestamp of the scrape that first saw it, as Prometheus does.
      last = await scraped();
      visible = Date.now();
      clock.set(last);
      engine.record('availability', batch.ok, batch.failed);
      engine.record('answers', batch.ok, batch.failed);
      engine.record('latency', batch.fast, batch.slow);
    }
    const backend = new PrometheusBackend(slos, { url, clock, dataSince: start });
    for (const slo of slos) {
      const expected = engine.status(slo.name);
      const actual = await backend.status(slo.name);
      expectSameStatus(actual, expected);
    }
    // The data has something to say: the availability SLO burns 3.3x (85 bad of 2,585) and opens a ticket.
    const availability = await backend.status('availability');
    expect(availability.events).toEqual({ good: 2500, bad: 85 });
    expect(availability.alerts.map((a) => [a.severity, a.firing])).toEqual([
      ['page', false],
      ['ticket', true],
    ]);
    expect(availability.alerts[1]!.since).toBeGreaterThanOrEqual(start);
    // The calendar day starts at midnight in Berlin, not at a rolling offset.
    const latency = await backend.status('latency');
    expect(new Date(latency.period.start).toISOString()).toMatch(/T2[23]:00:00.000Z$/);

    // The generated recording rules agree with the engine (the first evaluation after the last scrape was seen).
    const recorded = await until('a rule evaluation after the last scrape', async () => {
      const [sample] = await client.query(
        'timestamp(slo:sli_error:ratio{slo="availability",window="20m"})',
        Date.now(),
      );
      return sample !== undefined && sample.value * 1000 > visible ? sample.value * 1000 : undefined;
    });
    // The pages' windows read the counters. The recorded ratio is held to the history, as the alerts judge it:
    // divided by that hold (the same time() as the rule's evaluation), it is the window's own ratio.
    const [ratio] = await client.query(
      'slo:sli_error:ratio{slo="availability",service="shop",window="20m"}\n/ ignoring (window)\n' +
        'clamp_max((time() - slo:history_start:timestamp{slo="availability",service="shop"}) / 1200, 1)',
      recorded,
    );
    expect(ratio!.value).toBeCloseTo(85 / 2585, 9);
    // This Prometheus has seconds of history: the generated ticket is held (the 40m window counts the time before
    // Prometheus started as good traffic), and the rules say so, while the engine judges its own seconds of data.
    expect(
      await client.query(
        'ALERTS{alertname="ShopAvailabilityBurnRateTicket",alertstate="firing",severity="ticket"}',
        recorded,
      ),
    ).toEqual([]);
    const [coverage] = await client.query(
      'slo:alert_history_coverage:ratio{slo="availability",service="shop"}',
      recorded,
    );
    expect(coverage!.value).toBeGreaterThan(0);
    expect(coverage!.value).toBeLessThan(0.1);
    expect(await client.query('ALERTS{alertname="ShopAvailabilityBurnRatePage"}', recorded)).toEqual([]);

    const fired = await backend.alertHistory('availability', start, last);
    expect(fired.map((a) => [a.name, a.severity, a.end])).toEqual([['ticket-40m', 'ticket', null]]);
    expect(fired[0]!.start).toBeGreaterThan(start);

    const rejected = await client.query('sum(', last).catch((e: unknown) => e);
    expect(isPrometheusQueryError(rejected)).toBe(true);
    await expect(client.query('sum(rate(shop_requests_total[5m]', last)).rejects.toThrow(
      /^Prometheus rejected "sum\(rate\(shop_requests_total\[5m\]": bad_data: /,
    );

    // The README example runs against this Prometheus too (its shop metrics are absent: no events, nothing spent).
    const example = await prometheusStatus(
      join(import.meta.dirname, '..', 'examples', 'shop', 'slos.yaml'),
      url,
    );
    expect(example.exhausted).toEqual([]);
    expect(example.markdown).toMatch(/^# Shop SLOs\n/);

    const history = await backend.history('availability', 5);
    expect(history).toHaveLength(5);
    expect(history.at(-1)!.sli).toBeCloseTo(2500 / 2585, 9);
    // Calendar history sums per-step increases, each extrapolated by Prometheus at its edges: with 1-2 s steps and
    // 1 s scrapes that is a few percent of the events (with hour-long steps and 30 s scrapes, under 1%).
    const latencyHistory = await backend.history('latency', 4);
    expect(Math.abs(latencyHistory.at(-1)!.sli! - latency.sli!)).toBeLessThan(0.05);
    expect(latencyHistory[0]!.at).toBe(start);
  });
});

/**
 * The tolerance: 1e-9 relative (floating point). Every counter is exported and scraped at 0 before the first event
 * and the backend queries at the timestamp of the last scrape, so Prometheus's extrapolation of `increase()` adds
 * nothing at either end of a window; the engine records each batch at the timestamp of the scrape that first saw
 * it. In production the backend's counts differ from an in-process engine's by Prometheus's extrapolation at the
 * window edges (at most about one scrape interval of traffic per window).
 */
function expectSameStatus(actual: SloStatus, expected: SloStatus): void {
  const close = (a: number | null, e: number | null, what: string): void => {
    if (a === null || e === null) {
      expect(a, what).toBe(e);
      return;
    }
    expect(Math.abs(a - e), `${actual.slo} ${what}: backend ${a}, engine ${e}`).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(e)),
    );
  };
  expect(actual.period).toEqual(expected.period);
  close(actual.sli, expected.sli, 'sli');
  close(actual.events.good, expected.events.good, 'good events');
  close(actual.events.bad, expected.events.bad, 'bad events');
  for (const key of ['total', 'consumed', 'consumedRatio', 'remainingRatio', 'remainingEvents'] as const) {
    close(actual.errorBudget[key], expected.errorBudget[key], `errorBudget.${key}`);
  }
  expect(actual.burnRates.map((b) => b.window)).toEqual(expected.burnRates.map((b) => b.window));
  actual.burnRates.forEach((b, i) => {
    close(b.rate, expected.burnRates[i]!.rate, `burn rate ${b.window}`);
    close(b.events, expected.burnRates[i]!.events, `events ${b.window}`);
  });
  expect(actual.alerts.map((a) => a.firing)).toEqual(expected.alerts.map((a) => a.firing));
  close(actual.timeToExhaustionMs, expected.timeToExhaustionMs, 'time to exhaustion');
  expect(actual.policy).toBe(expected.policy);
}
