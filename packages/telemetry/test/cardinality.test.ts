import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { CardinalityGuard } from '../src/cardinality-guard.js';
import { type MetricsRegistry, createMetricsRegistry } from '../src/metrics-registry.js';
import { renderMetrics } from '../src/exposition.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { parseExposition, seriesCount } from './support/exposition-parser.js';
import { InMemoryConnection } from './support/in-memory-connection.js';

describe('CardinalityGuard', () => {
  it('admits values up to the cap, then collapses new ones and reports each', () => {
    const overflows: string[] = [];
    const guard = new CardinalityGuard({ limit: 2, limits: { m: { tenant: 1 } } }, (m, l) =>
      overflows.push(`${m}.${l}`),
    );
    expect(guard.value('m', 'route', 'a')).toBe('a');
    expect(guard.value('m', 'route', 'b')).toBe('b');
    expect(guard.value('m', 'route', 'c')).toBe('__overflow__');
    expect(guard.value('m', 'route', 'a')).toBe('a');
    expect(guard.value('m', 'tenant', 'x')).toBe('x');
    expect(guard.value('m', 'tenant', 'y')).toBe('__overflow__');
    expect(guard.value('other', 'route', 'c')).toBe('c');
    expect(overflows).toEqual(['m.route', 'm.tenant']);
  });

  it('rejects bad caps with the option template', () => {
    expect(() => new CardinalityGuard({ limit: 0 })).toThrow(
      'Expected `cardinality.limit` to be an integer >= 1, got `0` (number)',
    );
    expect(() => new CardinalityGuard({ limits: { m: { tenant: 1.5 } } })).toThrow(
      'cardinality.limits.m.tenant',
    );
  });
});

// Deterministic pseudo-random numbers (the test must be reproducible).
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

type Gen = () => { method: string; path: string; tenant: string };
function generator(seed: number): Gen {
  const random = lcg(seed);
  const methods = ['GET', 'POST', 'PURGE', 'PROPFIND', 'DELETE'];
  return () => {
    const r = random();
    const id = Math.floor(random() * 1e9).toString(36);
    const path =
      r < 0.3
        ? `/users/${id}`
        : r < 0.6
          ? `/orders/${id}/items/${id}x`
          : `/${id}/${Math.floor(random() * 1e6)}`;
    return {
      method: methods[Math.floor(random() * methods.length)]!,
      path,
      tenant: `tenant-${Math.floor(random() * 1e9)}`,
    };
  };
}

const TENANT_CAP = 20;

function setup() {
  const metrics = createMetricsRegistry({
    cardinality: { limit: 50, limits: { http_server_request_duration_seconds: { tenant: TENANT_CAP } } },
  });
  return { metrics, router: withRoutes(express.Router(), metrics) };
}

function withRoutes(router: express.Router, metrics: MetricsRegistry): express.Router {
  router.use(redMiddleware(metrics, { tenant: (req) => req.headers['x-tenant'] as string | undefined }));
  router.get('/users/:id', (_req, res) => {
    res.end('ok');
  });
  router.post('/orders/:id/items/:item', (_req, res) => {
    res.end('ok');
  });
  return router;
}

async function checkCaps(metrics: ReturnType<typeof createMetricsRegistry>, total: number) {
  const { families } = parseExposition(await renderMetrics(metrics, 'prometheus'));
  const h = families.get('http_server_request_duration_seconds')!;
  const counts = h.samples.filter((s) => s.name.endsWith('_count'));
  expect(counts.reduce((n, s) => n + s.value, 0)).toBe(total);
  const distinct = (label: string) => new Set(counts.map((s) => s.labels[label])).size;
  expect(distinct('tenant')).toBe(TENANT_CAP + 1); // the first 20 tenants and __overflow__
  expect(distinct('http_route')).toBe(3); // two templates and __unmatched__
  expect(distinct('http_request_method')).toBe(4); // GET, POST, DELETE, _OTHER
  // Series are bounded by the product of the label caps, whatever the input was.
  expect(seriesCount(h)).toBeLessThanOrEqual((TENANT_CAP + 1) * 3 * 4 * 2);
  const overflow = families.get('ballast_telemetry_label_overflow_total')!;
  const tenantOverflow = overflow.samples.find(
    (s) => s.labels.metric === 'http_server_request_duration_seconds' && s.labels.label === 'tenant',
  );
  const overflowed = counts
    .filter((s) => s.labels.tenant === '__overflow__')
    .reduce((n, s) => n + s.value, 0);
  expect(tenantOverflow?.value).toBe(overflowed);
  expect(overflowed).toBe(total - TENANT_CAP); // every tenant id is new
}

describe('random paths and tenants through express routing', () => {
  it('100,000 requests through the express router leave every label under its cap', async () => {
    const { metrics, router } = setup();
    const app = { router };
    const next = generator(42);
    const total = 100_000;
    for (let i = 0; i < total; i++) {
      const { method, path, tenant } = next();
      // The request and response objects carry just what the router and the middleware read.
      const req = { method, url: path, headers: { 'x-tenant': tenant }, app };
      const res = Object.assign(new EventEmitter(), {
        statusCode: 200,
        headersSent: false,
        writableFinished: false,
        end() {
          res.writableFinished = true;
          res.emit('close');
        },
      });
      router(req as never, res as never, () => {
        res.statusCode = 404;
        res.end();
      });
    }
    await checkCaps(metrics, total);
  });

  it('2,000 pipelined HTTP/1.1 requests to a real server do the same', async () => {
    const metrics = setup().metrics;
    const app = express();
    withRoutes(app, metrics);
    const server = createServer(app);
    const next = generator(7);
    const total = 2_000;
    const conn = new InMemoryConnection(server);
    let raw = '';
    for (let i = 0; i < total; i++) {
      const { method, path, tenant } = next();
      raw += `${method} ${path} HTTP/1.1\r\nHost: t\r\nx-tenant: ${tenant}\r\n\r\n`;
    }
    await conn.send(raw, total);
    conn.destroy();
    await checkCaps(metrics, total);
  });
});
