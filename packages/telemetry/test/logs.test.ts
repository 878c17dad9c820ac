import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { ManualClock, setErrorHandler } from '@ballast/core';
import { CircuitBreakerPolicy, ConsecutiveBreaker } from '@ballast/resilience';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConsecutiveBreaker as CockatielConsecutive, circuitBreaker, handleAll } from 'cockatiel';
import type expressType from 'express';
import pino from 'pino';
import { pinoHttp } from 'pino-http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redMiddleware } from '../src/http/red-middleware.js';
import { httpLogLevel } from '../src/logs/http-log-level.js';
import { requestLogOptions } from '../src/logs/request-log.js';
import type { LoggerLike } from '../src/logs/logger.js';
import { logPolicyEvents } from '../src/logs/policy-log.js';
import { rateLimitedLogger } from '../src/logs/rate-limited.js';
import { traceLogMixin } from '../src/logs/trace-context.js';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { fromCockatiel } from '../src/policy/cockatiel.js';
import { type TelemetryHandle, startTelemetry } from '../src/tracing/start-telemetry.js';
import { FakePolicy } from './support/fakes.js';
import { listen } from './support/http.js';

type Line = Record<string, unknown> & { level: number; msg: string };

/** A real pino logger (with the trace mixin) writing JSON lines into an array. */
function capture(level = 'debug') {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const logger = pino({ level, mixin: traceLogMixin }, sink);
  return { logger, lines };
}
const flush = () => new Promise((resolve) => setImmediate(resolve));

const exporter = new InMemorySpanExporter();
let telemetry: TelemetryHandle;
beforeAll(() => {
  telemetry = startTelemetry({ exporter, handleSignals: false, serviceName: 'logs-test' });
});
afterAll(() => telemetry.shutdown());
afterEach(() => setErrorHandler(undefined));

describe('traceLogMixin', () => {
  it('puts the active span trace context on every line, and nothing outside a span', async () => {
    const { logger, lines } = capture();
    const ids = trace.getTracer('t').startActiveSpan('checkout', (span) => {
      logger.warn({ order: 'o1' }, 'payment declined');
      span.end();
      return span.spanContext();
    });
    logger.info('outside any span');
    await flush();
    expect(lines[0]).toMatchObject({
      level: 40,
      order: 'o1',
      msg: 'payment declined',
      trace_id: ids.traceId,
      span_id: ids.spanId,
      trace_flags: '01',
    });
    expect(lines[0]!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[1]).not.toHaveProperty('trace_id');
    expect(lines[1]).not.toHaveProperty('span_id');
  });

  it('fits pino and its children as a LoggerLike', () => {
    const { logger } = capture();
    const asLike: LoggerLike = logger.child({ component: 'payments' });
    expect(typeof asLike.warn).toBe('function');
  });
});

describe('httpLogLevel', () => {
  it.each([
    [200, undefined, 'debug'],
    [304, undefined, 'debug'],
    [404, undefined, 'info'],
    [429, undefined, 'info'],
    [500, undefined, 'error'],
    [503, undefined, 'error'],
    [200, new Error('socket hang up'), 'error'],
  ])('status %i with error %s is logged at %s', (statusCode, error, level) => {
    expect(httpLogLevel({}, { statusCode }, error)).toBe(level);
  });
});

describe('request logs with pino-http and requestLogOptions (real express, real HTTP and express instrumentation)', () => {
  it('logs a 500 at error with its server span trace id and route, a 404 at info, a 200 not at all (info)', async () => {
    // Loaded through require after the SDK started, so the HTTP and express instrumentations patch them.
    const require = createRequire(import.meta.url);
    const express = require('express') as typeof expressType;
    const { logger, lines } = capture('info');
    const metrics = createMetricsRegistry();
    const app = express();
    app.use(redMiddleware(metrics));
    app.use(
      pinoHttp({
        logger,
        ...requestLogOptions({ tenant: (req) => req.headers['x-tenant'] as string | undefined }),
      }),
    );
    const items = express.Router();
    items.get('/:id', (req, res) => {
      if (req.params.id === 'boom') throw new TypeError('inventory row without a price');
      if (req.params.id === 'missing') {
        res.status(404).json({ title: 'Not found' });
        return;
      }
      res.json({ id: req.params.id });
    });
    app.use('/items', items);
    const server = await listen(app);
    const echoed: (string | null)[] = [];
    try {
      for (const id of ['ok', 'missing', 'boom?card=4111111111111111']) {
        const res = await fetch(`${server.url}/items/${id}`, {
          headers: {
            authorization: 'Bearer rf_secret_key',
            'x-tenant': 'acme',
            'x-request-id': id === 'missing' ? 'req-42' : 'not a token!',
          },
        });
        await res.text();
        echoed.push(res.headers.get('x-request-id'));
      }
      await telemetry.forceFlush();
      await flush();
    } finally {
      await server.close();
    }
    expect(
      lines.map((l) => [l.level, (l.res as { statusCode: number }).statusCode, l.route, l.tenant]),
    ).toEqual([
      [30, 404, '/items/:id', 'acme'],
      [50, 500, '/items/:id', 'acme'],
    ]);
    // The caller's id when it is a plain token, else a UUID; echoed either way; no headers or query in the line.
    expect(echoed[1]).toBe('req-42');
    expect(echoed[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0]!.req).toEqual({ id: 'req-42', method: 'GET', path: '/items/missing' });
    expect(lines[1]!.req).toEqual({ id: echoed[2], method: 'GET', path: '/items/boom' });
    expect(JSON.stringify(lines)).not.toMatch(/rf_secret_key|4111111111111111|failed with status code/);
    const failed = lines[1]!;
    const serverSpan = exporter
      .getFinishedSpans()
      .find((s) => s.kind === SpanKind.SERVER && String(s.attributes['url.path']).endsWith('/items/boom'));
    expect(serverSpan, 'no server span for /items/boom').toBeDefined();
    expect(failed.trace_id).toBe(serverSpan!.spanContext().traceId);
  });
});

describe('rateLimitedLogger', () => {
  it('writes perWindow lines per key per window, then says how many it left out', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const limited = rateLimitedLogger(logger, { clock, windowMs: 60_000, perWindow: 2 });
    const written = Array.from({ length: 5 }, (_, i) =>
      limited.warn('bad-cursor:acme', { tenant: 'acme', i }, 'cursor this API did not issue'),
    );
    expect(written).toEqual([true, true, false, false, false]);
    expect(limited.warn('bad-cursor:globex', { tenant: 'globex' }, 'cursor this API did not issue')).toBe(
      true,
    );
    clock.advance(60_000);
    expect(limited.warn('bad-cursor:acme', { tenant: 'acme', i: 5 }, 'cursor this API did not issue')).toBe(
      true,
    );
    await flush();
    expect(lines.map((l) => [l.level, l.tenant, l.i, l.suppressed])).toEqual([
      [40, 'acme', 0, undefined],
      [40, 'acme', 1, undefined],
      [40, 'globex', undefined, undefined],
      [40, 'acme', 5, 3],
    ]);
    expect(limited.suppressed).toBe(3);
  });

  it('cannot be flooded by distinct keys: past maxKeys they share one budget', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const limited = rateLimitedLogger(logger, { clock, perWindow: 1, maxKeys: 2 });
    for (let i = 0; i < 1000; i++) limited.error(`client-${i}`, { i }, 'bad input');
    await flush();
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2]); // two keys, then the shared overflow budget
    expect(limited.suppressed).toBe(997);
  });

  it('rejects bad options with the option template', () => {
    const { logger } = capture();
    expect(() => rateLimitedLogger(logger, { perWindow: 0 })).toThrow(
      'Expected `perWindow` to be an integer >= 1, got `0` (number)',
    );
    expect(() => rateLimitedLogger({} as LoggerLike)).toThrow(
      'Expected `logger` to be a logger with error, warn, info and debug methods (e.g. pino), got `{}` (object)',
    );
  });
});

describe('logPolicyEvents', () => {
  it('logs a real breaker opening at warn and half-opening and closing at info, in the failing call trace', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const breaker = new CircuitBreakerPolicy({
      name: 'payment-breaker',
      breaker: new ConsecutiveBreaker({ threshold: 1 }),
      halfOpenAfterMs: 1_000,
      clock,
    });
    logPolicyEvents(logger, [breaker], { clock });
    const traceId = await trace.getTracer('t').startActiveSpan('checkout', async (span) => {
      await breaker.execute(() => Promise.reject(new Error('provider down'))).catch(() => undefined);
      span.end();
      return span.spanContext().traceId;
    });
    clock.advance(1_000);
    await breaker.execute(() => Promise.resolve('ok'));
    await flush();
    expect(lines.map((l) => [l.level, l.event, l.policy, l.from, l.to])).toEqual([
      [40, 'ballast.circuit_state_change', 'payment-breaker', 'closed', 'open'],
      [30, 'ballast.circuit_state_change', 'payment-breaker', 'open', 'half-open'],
      [30, 'ballast.circuit_state_change', 'payment-breaker', 'half-open', 'closed'],
    ]);
    expect(lines[0]!.trace_id).toBe(traceId);
    expect(lines[0]!.msg).toBe('payment-breaker: circuit breaker closed -> open');
  });

  it('logs a cockatiel breaker through fromCockatiel the same way', async () => {
    const { logger, lines } = capture();
    const breaker = circuitBreaker(handleAll, {
      halfOpenAfter: 60_000,
      breaker: new CockatielConsecutive(1),
    });
    logPolicyEvents(logger, [fromCockatiel('cockatiel-payments', breaker)]);
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    await flush();
    expect(lines.map((l) => [l.level, l.policy, l.policy_kind, l.to])).toEqual([
      [40, 'cockatiel-payments', 'circuit-breaker', 'open'],
    ]);
  });

  it('logs one shedding episode: started at warn on the first shed, stopped at info after a quiet period', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const limiter = new FakePolicy('ingress', 'concurrency-limiter');
    logPolicyEvents(logger, [limiter], { clock, sheddingQuietMs: 10_000 });
    limiter.emit({ type: 'rejected', reason: 'shed', priority: 'sheddable' });
    for (let i = 0; i < 99; i++) {
      clock.advance(50);
      limiter.emit({ type: 'rejected', reason: i % 2 ? 'shed' : 'queue-timeout', priority: 'default' });
    }
    limiter.emit({ type: 'rejected', reason: 'rate-limited' }); // not a shed
    clock.advance(9_999);
    await flush();
    expect(lines).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(lines.map((l) => [l.level, l.event, l.shed, l.duration_ms, l.priority])).toEqual([
      [40, 'ballast.load_shedding_started', undefined, undefined, 'sheddable'],
      [30, 'ballast.load_shedding_stopped', 100, 4_950, undefined],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rate limits repeated store errors per policy and says how many it left out', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const limiter = new FakePolicy('tenant-limit', 'rate-limiter');
    logPolicyEvents(logger, [limiter], { clock });
    for (let i = 0; i < 500; i++)
      limiter.emit({ type: 'store-error', error: new Error('ECONNREFUSED'), failOpen: true });
    clock.advance(60_000);
    limiter.emit({ type: 'store-error', error: new Error('ECONNREFUSED'), failOpen: true });
    await flush();
    expect(lines.map((l) => [l.level, l.event, l.fail_mode, l.suppressed])).toEqual([
      [40, 'ballast.policy_store_error', 'open', undefined],
      [40, 'ballast.policy_store_error', 'open', 499],
    ]);
    expect((lines[0]!.err as { message: string }).message).toBe('ECONNREFUSED');
  });

  it('logs nothing twice for a policy given twice, and nothing after dispose', async () => {
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const breaker = new FakePolicy('b', 'circuit-breaker');
    const first = logPolicyEvents(logger, [breaker], { clock });
    const second = logPolicyEvents(logger, [breaker], { clock });
    breaker.emit({ type: 'state-change', from: 'closed', to: 'open' });
    first.dispose();
    second.dispose();
    breaker.emit({ type: 'state-change', from: 'open', to: 'half-open' });
    await flush();
    expect(lines).toHaveLength(1);
  });

  it('never throws into the policy when the logger throws', () => {
    const reported: string[] = [];
    setErrorHandler((_e, context) => reported.push(context));
    const throwing = {
      error: () => {
        throw new Error('disk full');
      },
      warn: () => {
        throw new Error('disk full');
      },
      info: () => undefined,
      debug: () => undefined,
    };
    const breaker = new FakePolicy('b', 'circuit-breaker');
    logPolicyEvents(throwing, [breaker]);
    breaker.emit({ type: 'state-change', from: 'closed', to: 'open' });
    expect(reported).toEqual(['logging a circuit-breaker event']);
  });
});
