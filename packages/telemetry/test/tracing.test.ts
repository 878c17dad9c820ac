import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type expressType from 'express';
import { SpanKind } from '@opentelemetry/api';
import { startTelemetry, type TelemetryHandle } from '../src/tracing/start-telemetry.js';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { metricsHandler } from '../src/metrics-handler.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { instrumentFetch } from '../src/http/client.js';
import { parseExposition } from './support/exposition-parser.js';
import { listen } from './support/http.js';
import { type ReceivedSpan, startOtlpReceiver } from './support/otlp-receiver.js';

describe('tracing to a real OTLP/HTTP receiver', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let telemetry: TelemetryHandle;
  let app: Awaited<ReturnType<typeof listen>>;
  let downstream: Awaited<ReturnType<typeof listen>>;
  const metrics = createMetricsRegistry();

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    telemetry = startTelemetry({
      serviceName: 'tracing-test',
      serviceVersion: '1.2.3',
      endpoint: receiver.url,
      handleSignals: false,
    });
    // Loaded through require after the SDK started, as `--import @ballast/telemetry/register` arranges in an app,
    // so the HTTP and express instrumentations patch them.
    const express = createRequire(import.meta.url)('express') as typeof expressType;
    const down = express();
    down.get('/stock/:sku', (_req, res) => {
      res.json({ inStock: true });
    });
    downstream = await listen(down);
    const tracedFetch = instrumentFetch(metrics, { serverAddresses: ['127.0.0.1'] });
    const main = express();
    main.use(redMiddleware(metrics));
    main.get('/metrics', metricsHandler(metrics));
    const users = express.Router();
    users.get('/:id', async (req, res) => {
      const stock = await tracedFetch(`${downstream.url}/stock/${req.params.id}`);
      res.json({ id: req.params.id, stock: await stock.json() });
    });
    main.use('/api/users', users);
    app = await listen(main);
  });

  afterAll(async () => {
    await telemetry?.shutdown();
    await app?.close();
    await downstream?.close();
    await receiver?.close();
  });

  it('exports server and client spans with semconv attributes and parent/child links, and links exemplars', async () => {
    const res = await fetch(`${app.url}/api/users/42`);
    expect(res.status).toBe(200);
    await res.text();
    await telemetry.forceFlush();
    expect(receiver.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);

    const servers = receiver.spans.filter((s) => s.kind === SpanKind.SERVER + 1); // OTLP kinds are 1-based
    const server = servers.find((s) => s.attributes['http.route'] === '/api/users/:id');
    expect(
      server,
      JSON.stringify(receiver.spans.map((s) => [s.name, s.kind, s.attributes['http.route']])),
    ).toBeDefined();
    expect(server!.attributes['http.request.method']).toBe('GET');
    expect(server!.attributes['http.response.status_code']).toBe(200);
    expect(server!.resource['service.name']).toBe('tracing-test');
    expect(server!.resource['service.version']).toBe('1.2.3');

    const client = receiver.spans.find(
      (s) => s.scope === '@ballast/telemetry' && s.kind === SpanKind.CLIENT + 1,
    );
    expect(client).toBeDefined();
    expect(client!.traceId).toBe(server!.traceId);
    expect(client!.attributes['http.request.method']).toBe('GET');
    expect(client!.attributes['server.address']).toBe('127.0.0.1');
    expect(client!.attributes['http.response.status_code']).toBe(200);
    expect(ancestors(client!, receiver.spans)).toContain(server!.spanId);

    // The downstream server span continues the trace from the propagated traceparent.
    const downstreamServer = servers.find((s) => s.attributes['http.route'] === '/stock/:sku');
    expect(downstreamServer?.traceId).toBe(server!.traceId);
    expect(downstreamServer?.parentSpanId).toBe(client!.spanId);

    // An OpenMetrics scrape links the histogram bucket to the server span.
    const scrape = await fetch(`${app.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
    const families = parseExposition(await scrape.text(), true).families;
    const exemplars = families
      .get('http_server_request_duration_seconds')!
      .samples.filter((s) => s.labels.http_route === '/api/users/:id' && s.exemplar)
      .map((s) => s.exemplar!);
    expect(exemplars).toHaveLength(1);
    expect(exemplars[0]!.labels.trace_id).toBe(server!.traceId);
    expect(exemplars[0]!.labels.span_id).toBe(server!.spanId);
    const clientExemplar = families
      .get('http_client_request_duration_seconds')!
      .samples.find((s) => s.exemplar)?.exemplar;
    expect(clientExemplar?.labels.span_id).toBe(client!.spanId);

    // Prometheus text never carries exemplars.
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(() => parseExposition(text)).not.toThrow();
    expect(text.includes('trace_id')).toBe(false);
  });

  it('refuses a second start while the first runs', () => {
    expect(() => startTelemetry({ handleSignals: false })).toThrow('already called');
  });
});

function ancestors(span: ReceivedSpan, all: readonly ReceivedSpan[]): string[] {
  const out: string[] = [];
  let parent = span.parentSpanId;
  while (parent) {
    out.push(parent);
    parent = all.find((s) => s.spanId === parent)?.parentSpanId;
  }
  return out;
}
