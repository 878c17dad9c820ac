/**
 * What request logging costs: the same express app served bare and with pino-http (Ballast's `httpLogLevel`, so
 * only failures are written; and a line for every request), and the same route on plain `node:http` (no framework,
 * no logging: the floor), each in its own child process (pinned with `BENCH_SERVER_CPUS`); autocannon loads one
 * server at a time, in rotating rounds, from this process; ratios are medians of per-round ratios of requests per
 * CPU-second of the server. Then the cost of one JSON line in-process, with and without the trace mixin (inside an
 * active, sampled span).
 */
import { Writable } from 'node:stream';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import pino from 'pino';
import { measure, report, row } from '@ballast/testkit';
import { traceLogMixin } from '../src/logs/trace-context.js';
import { startTelemetry } from '../src/tracing/start-telemetry.js';
import type { Variant } from './apps.js';
import { SERVER_CPUS, runRounds } from './http-harness.js';

const VARIANTS = ['node-http', 'bare', 'log-failures', 'log-every'] as const satisfies readonly Variant[];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);

const rounds = await runRounds(VARIANTS, ROUNDS, SECONDS);

// One line, serialized by pino into a stream that drops it: the logger's own cost, with and without the mixin.
const telemetry = startTelemetry({ exporter: new InMemorySpanExporter(), handleSignals: false });
const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
const plain = pino({ level: 'info' }, sink());
const mixed = pino({ level: 'info', mixin: traceLogMixin }, sink());
const BATCH = 1000;
const fields = { tenant: 'acme', route: '/api/v1/orders', status: 500 };
const lines = await trace.getTracer('bench').startActiveSpan('request', async (span) => {
  try {
    return await measure(
      [
        {
          name: 'pino line',
          batch: BATCH,
          fn: () => {
            for (let n = 0; n < BATCH; n++) plain.error(fields, 'request failed');
          },
        },
        {
          name: 'pino line + traceLogMixin',
          batch: BATCH,
          fn: () => {
            for (let n = 0; n < BATCH; n++) mixed.error(fields, 'request failed');
          },
        },
      ],
      { timeMs: 700, warmupMs: 200 },
    );
  } finally {
    span.end();
  }
});
await telemetry.shutdown();

const results = [...rounds.rows(), ...lines];
report(
  'telemetry-logs',
  results,
  {
    log_failures_vs_bare: rounds.pairedRatio('log-failures', 'bare', 'perCpuSecond'),
    log_every_vs_bare: rounds.pairedRatio('log-every', 'bare', 'perCpuSecond'),
    log_failures_vs_bare_wall: rounds.pairedRatio('log-failures', 'bare', 'rps'),
    log_every_vs_bare_wall: rounds.pairedRatio('log-every', 'bare', 'rps'),
    bare_vs_node_http: rounds.pairedRatio('bare', 'node-http', 'perCpuSecond'),
    log_failures_vs_node_http: rounds.pairedRatio('log-failures', 'node-http', 'perCpuSecond'),
    log_every_vs_node_http: rounds.pairedRatio('log-every', 'node-http', 'perCpuSecond'),
    mixin_line_vs_plain_line:
      row(results, 'pino line + traceLogMixin').medianNs / row(results, 'pino line').medianNs,
  },
  {
    rounds: ROUNDS,
    seconds_per_round: SECONDS,
    server_cpus: SERVER_CPUS ?? 'unpinned',
    samples: rounds.rawSamples(),
  },
);
