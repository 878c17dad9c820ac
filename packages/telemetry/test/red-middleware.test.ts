import { request } from 'node:http';
import express, { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { metricsHandler } from '../src/metrics-handler.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { countSeries, listen, sampleValue, scrape, send } from './support/http.js';

const H = 'http_server_request_duration_seconds';

function buildApp() {
  const metrics = createMetricsRegistry();
  const app = express();
  app.use(redMiddleware(metrics));
  app.get('/metrics', metricsHandler(metrics));
  const orders = Router({ mergeParams: true });
  orders.get('/orders/:orderId', (req, res) => {
    res.json({ ok: true });
  });
  const api = Router();
  api.use('/users/:id', orders);
  api.get('/', (_req, res) => {
    res.send('api root');
  });
  app.use('/api', api);
  app.get('/boom', () => {
    throw new TypeError('sync failure');
  });
  app.get('/async-boom', async () => {
    await Promise.resolve();
    throw new RangeError('async failure');
  });
  app.get(['/a', '/b/:x'], (_req, res) => {
    res.send('alt');
  });
  app.use('/static', (_req, res) => {
    res.send('file');
  });
  app.get('/fail', (_req, res) => {
    res.status(503).send('unavailable');
  });
  return { app, metrics };
}

describe('redMiddleware on a real express app', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let held: { reached: Promise<void>; closed: Promise<void> };
  beforeAll(async () => {
    const { app } = buildApp();
    let reached!: () => void;
    let closed!: () => void;
    held = {
      reached: new Promise<void>((r) => (reached = r)),
      closed: new Promise<void>((r) => (closed = r)),
    };
    app.get('/hang/:id', (_req, res) => {
      // Never answers; registered after the RED middleware's own close listener, so it runs after it.
      res.on('close', closed);
      reached();
    });
    server = await listen(app);
  });
  afterAll(() => server.close());

  it('labels the full template including router mount paths', async () => {
    expect((await send(`${server.url}/api/users/42/orders/7`)).status).toBe(200);
    expect((await send(`${server.url}/api/users/43/orders/8`)).status).toBe(200);
    expect((await send(`${server.url}/api`)).status).toBe(200);
    expect((await send(`${server.url}/b/zz`)).status).toBe(200);
    expect((await send(`${server.url}/static/app.js`)).status).toBe(200);
    const { families } = await scrape(`${server.url}/metrics`);
    const h = families.get(H);
    expect(h?.type).toBe('histogram');
    const count = (labels: Record<string, string>) => sampleValue(h, `${H}_count`, labels);
    expect(
      count({
        http_route: '/api/users/:id/orders/:orderId',
        http_request_method: 'GET',
        http_response_status_code: '200',
      }),
    ).toBe(2);
    expect(count({ http_route: '/api' })).toBe(1);
    expect(count({ http_route: '/b/:x' })).toBe(1);
    expect(count({ http_route: '/static' })).toBe(1);
    const routes = countSeries(h).map((l) => l.http_route);
    expect(routes).not.toContain('/api/users/42/orders/7');
  });

  it('gives unmatched requests one fixed route and unknown methods _OTHER', async () => {
    expect((await send(`${server.url}/no/such/path/1`)).status).toBe(404);
    expect((await send(`${server.url}/no/such/path/2`)).status).toBe(404);
    expect((await send(`${server.url}/api/users/1/orders/2`, 'PURGE')).status).toBe(404);
    const h = (await scrape(`${server.url}/metrics`)).families.get(H);
    expect(sampleValue(h, `${H}_count`, { http_route: '__unmatched__', http_request_method: 'GET' })).toBe(2);
    expect(sampleValue(h, `${H}_count`, { http_route: '__unmatched__', http_request_method: '_OTHER' })).toBe(
      1,
    );
    expect(countSeries(h).some((l) => l.http_route?.startsWith('/no/'))).toBe(false);
  });

  it('counts thrown errors with their class name as error_type', async () => {
    expect((await send(`${server.url}/boom`)).status).toBe(500);
    expect((await send(`${server.url}/async-boom`)).status).toBe(500);
    expect((await send(`${server.url}/fail`)).status).toBe(503);
    const h = (await scrape(`${server.url}/metrics`)).families.get(H);
    expect(
      sampleValue(h, `${H}_count`, {
        http_route: '/boom',
        error_type: 'TypeError',
        http_response_status_code: '500',
      }),
    ).toBe(1);
    expect(sampleValue(h, `${H}_count`, { http_route: '/async-boom', error_type: 'RangeError' })).toBe(1);
    expect(sampleValue(h, `${H}_count`, { http_route: '/fail', error_type: '503' })).toBe(1);
    const ok = countSeries(h).find((l) => l.http_route === '/api');
    expect(ok && 'error_type' in ok).toBe(false);
  });

  it('counts a request the client aborted once, as aborted, and tracks active requests', async () => {
    const req = request(`${server.url}/hang/1`, { agent: false });
    req.on('error', () => {});
    req.end();
    await held.reached;
    const during = await scrape(`${server.url}/metrics`);
    // The hanging request and the scrape itself are in flight.
    expect(
      sampleValue(during.families.get('http_server_active_requests'), 'http_server_active_requests', {
        http_request_method: 'GET',
        url_scheme: 'http',
      }),
    ).toBe(2);
    req.destroy();
    await held.closed;
    const after = await scrape(`${server.url}/metrics`);
    const h = after.families.get(H);
    expect(
      sampleValue(h, `${H}_count`, {
        http_route: '/hang/:id',
        error_type: 'aborted',
        http_response_status_code: '',
      }),
    ).toBe(1);
    expect(
      sampleValue(after.families.get('http_server_active_requests'), 'http_server_active_requests', {
        http_request_method: 'GET',
      }),
    ).toBe(1);
  });

  it('negotiates OpenMetrics and keeps Prometheus text the default', async () => {
    const text = await scrape(`${server.url}/metrics`);
    expect(text.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const om = await scrape(`${server.url}/metrics`, true);
    expect(om.contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.sawEof).toBe(true);
    // Both formats describe the same histogram series.
    expect(countSeries(om.families.get(H)).length).toBe(countSeries(text.families.get(H)).length);
  });
});

describe('explicit registries', () => {
  it('lets two apps in one process keep separate metrics without clashing', async () => {
    const one = buildApp();
    const two = buildApp();
    const a = await listen(one.app);
    const b = await listen(two.app);
    try {
      await send(`${a.url}/api`);
      await send(`${a.url}/api`);
      await send(`${b.url}/api`);
      const ha = (await scrape(`${a.url}/metrics`)).families.get(H);
      const hb = (await scrape(`${b.url}/metrics`)).families.get(H);
      expect(sampleValue(ha, `${H}_count`, { http_route: '/api' })).toBe(2);
      expect(sampleValue(hb, `${H}_count`, { http_route: '/api' })).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lets two RED middlewares on one app record every request once each, with the same route', async () => {
    const first = createMetricsRegistry();
    const second = createMetricsRegistry();
    const app = express();
    app.use(redMiddleware(first));
    app.use(redMiddleware(second));
    app.get('/first', metricsHandler(first));
    app.get('/second', metricsHandler(second));
    app.get('/items/:id', (_req, res) => {
      res.send('ok');
    });
    const server = await listen(app);
    try {
      await send(`${server.url}/items/1`);
      for (const path of ['/first', '/second']) {
        const families = (await scrape(`${server.url}${path}`)).families;
        expect(sampleValue(families.get(H), `${H}_count`, { http_route: '/items/:id' })).toBe(1);
        // Only the scrape itself is in flight.
        expect(
          sampleValue(families.get('http_server_active_requests'), 'http_server_active_requests', {
            http_request_method: 'GET',
          }),
        ).toBe(1);
      }
    } finally {
      await server.close();
    }
  });

  it('registers nothing on the global prom-client registry', async () => {
    const { register } = await import('prom-client');
    buildApp();
    expect(register.getMetricsAsArray()).toHaveLength(0);
  });
});
