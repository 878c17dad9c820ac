import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type TelemetryHandle } from '@ballast/telemetry/tracing';
import type { ManualClock } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../src/service.js';
import { createLogger } from '../src/wiring/logging.js';
import { ACME, ADMIN, call, order, settle, startTestService } from './helpers.js';

type Line = Record<string, unknown> & { level: number; msg: string };

// Request logs that join traces: RetailFlow with tracing on (an in-memory exporter) and its JSON log captured.
describe('request logs', () => {
  const exporter = new InMemorySpanExporter();
  const lines: Line[] = [];
  let tracing: TelemetryHandle;
  let service: RetailFlow;
  let clock: ManualClock;

  beforeAll(async () => {
    tracing = startTelemetry({ exporter, handleSignals: false, serviceName: 'retailflow' });
    // Required after the SDK started, so the HTTP instrumentation patches the module RetailFlow's server uses.
    createRequire(import.meta.url)('node:http');
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as Line);
        done();
      },
    });
    const logger = createLogger({ service: 'retailflow', level: 'info', destination: sink });
    ({ service, clock } = await startTestService({}, { tracing, logger }));
  });
  afterAll(async () => {
    await service?.shutdown(); // shuts the tracing handle down too
  });

  it('writes a 500 at error with the trace id of its server span, the request id, tenant and route', async () => {
    const repo = service.repo as { listProducts: unknown };
    const listProducts = repo.listProducts;
    repo.listProducts = () => Promise.reject(new TypeError('a product row without a price'));
    let answer;
    try {
      answer = await call(service.url, 'GET', '/api/v1/products', {
        key: ACME,
        headers: { 'x-request-id': 'rq-500' },
      });
    } finally {
      repo.listProducts = listProducts;
    }
    expect(answer.status).toBe(500);
    expect(answer.headers.get('x-request-id')).toBe('rq-500');
    await tracing.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));

    const access = lines.find((l) => (l.req as { id?: string } | undefined)?.id === 'rq-500');
    expect(access, JSON.stringify(lines)).toMatchObject({
      level: 50,
      service: 'retailflow',
      tenant: 'acme',
      route: '/api/v1/products',
      req: { id: 'rq-500', method: 'GET', path: '/api/v1/products' },
      res: { statusCode: 500 },
    });
    const span = exporter
      .getFinishedSpans()
      .find((s) => s.kind === SpanKind.SERVER && s.attributes['http.response.status_code'] === 500);
    expect(span, 'no server span answered 500').toBeDefined();
    expect(access!.trace_id).toBe(span!.spanContext().traceId);

    // The error itself, with its stack, in the same trace.
    const unexpected = lines.find((l) => l.msg === 'unhandled error in a request');
    expect(unexpected).toMatchObject({ level: 50, trace_id: span!.spanContext().traceId });
    expect((unexpected!.err as { message: string }).message).toBe('a product row without a price');
    expect(JSON.stringify(lines)).not.toContain(ACME); // the API key never reaches the log
  });

  it('writes a client error at info, nothing for a success at the info level, nothing for a front-door refusal', async () => {
    const before = lines.length;
    expect((await call(service.url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    expect((await call(service.url, 'GET', '/api/v1/products/sku-nope', { key: ACME })).status).toBe(404);
    expect((await call(service.url, 'GET', '/api/v1/products', { key: 'rf_wrong' })).status).toBe(401);
    await new Promise((resolve) => setImmediate(resolve));
    expect(
      lines
        .slice(before)
        .map((l) => [l.level, (l.res as { statusCode: number }).statusCode, l.route, l.tenant]),
    ).toEqual([
      // The 401 is answered by the front door before express: refusals (401, 429, 503) are counted in the RED
      // metrics but not logged one line each, so a flood of them costs no log volume.
      [30, 404, '/api/v1/products/:productId', 'acme'],
    ]);
  });

  it('rate limits the unexpected-error lines of a flood of 500s (each 500 still has its request line)', async () => {
    const repo = service.repo as { listProducts: unknown };
    const listProducts = repo.listProducts;
    repo.listProducts = () => Promise.reject(new RangeError('cursor arithmetic overflow'));
    try {
      for (let i = 0; i < 30; i++) {
        expect(
          (await call(service.url, 'GET', `/api/v1/products?limit=${i + 1}`, { key: ACME })).status,
        ).toBe(500);
      }
    } finally {
      repo.listProducts = listProducts;
    }
    await new Promise((resolve) => setImmediate(resolve));
    const range = lines.filter((l) => (l.err as { type?: string } | undefined)?.type === 'RangeError');
    expect(range).toHaveLength(10);
    expect(
      lines.filter(
        (l) => l.level === 50 && (l.res as { statusCode?: number } | undefined)?.statusCode === 500,
      ).length,
    ).toBeGreaterThanOrEqual(31);
  });

  it("writes one warning per failed checkout with its trace, tenant, reason and the order's own reason, rate limited", async () => {
    const on = await call(service.opsUrl, 'POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'payments', enabled: true, errorRate: 1, latencyMs: 0 },
    });
    expect(on.status).toBe(200);
    const before = lines.length;
    try {
      for (let i = 0; i < 25; i++) {
        const answer = await settle(clock, order(service.url, ACME, `failing-${i}`));
        expect(answer.status).toBe(503);
      }
    } finally {
      await call(service.opsUrl, 'POST', '/admin/chaos', {
        key: ADMIN,
        body: { target: 'payments', enabled: false },
      });
    }
    await tracing.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));
    const failed = lines.slice(before).filter((l) => l.msg === 'checkout failed');
    // 25 failures of one reason, 20 lines a minute: the other 5 are counted, not written.
    expect(failed).toHaveLength(20);
    expect(failed[0]).toMatchObject({
      level: 40,
      event: 'checkout.failed',
      tenant: 'acme',
      status: 503,
      reason: 'payment-unavailable',
    });
    expect(typeof failed[0]!.orderId).toBe('string');
    expect(String(failed[0]!.detail)).toMatch(/^unavailable: /);
    const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(spans.map((s) => s.spanContext().traceId)).toContain(failed[0]!.trace_id);

    // The next minute's first line says how many were lost.
    clock.advance(60_000);
    await call(service.opsUrl, 'POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'payments', enabled: true, errorRate: 1, latencyMs: 0 },
    });
    try {
      expect((await settle(clock, order(service.url, ACME, 'failing-next-minute'))).status).toBe(503);
    } finally {
      await call(service.opsUrl, 'POST', '/admin/chaos', {
        key: ADMIN,
        body: { target: 'payments', enabled: false },
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.filter((l) => l.msg === 'checkout failed').at(-1)).toMatchObject({
      reason: 'payment-unavailable',
      suppressed: 5,
    });
  });

  it('does not log a checkout that succeeded or that the client got wrong', async () => {
    // The failures above opened the payment breaker: close it by hand (the admin lever).
    const reset = await call(service.opsUrl, 'POST', '/admin/breakers', {
      key: ADMIN,
      body: { name: 'payment-breaker', action: 'reset' },
    });
    expect(reset.status).toBe(200);
    const before = lines.length;
    expect((await settle(clock, order(service.url, ACME, 'fine-1'))).status).toBe(201);
    expect((await order(service.url, ACME, 'bad-1', [{ productId: 'sku-mug', quantity: 0 }])).status).toBe(
      400,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.slice(before).filter((l) => l.msg === 'checkout failed')).toEqual([]);
  });
});
