import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { metricsHandler } from '../src/metrics-handler.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { joinTemplate } from '../src/http/route-capture.js';
import { listen, sampleValue, scrape, send } from './support/http.js';

describe('joinTemplate', () => {
  it.each([
    ['', '/', ''],
    ['/api', '/users/:id', '/api/users/:id'],
    ['/api/', '/users', '/api/users'],
    ['/api', '/', '/api'],
    ['/api', 'users', '/api/users'],
  ])('%s + %s', (prefix, pattern, joined) => {
    expect(joinTemplate(prefix, pattern)).toBe(joined);
  });
});

describe('route capture edge cases', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const metrics = createMetricsRegistry();
    const app = express();
    app.use(redMiddleware(metrics));
    app.get('/metrics', metricsHandler(metrics));
    // Routes registered on a router before it is mounted, and a router mounted at the root.
    const v1 = express.Router();
    v1.get('/ping', (_req, res) => {
      res.send('pong');
    });
    app.use('/', v1);
    // A sub-router that does not handle a path falls through to a later route.
    const admin = express.Router();
    admin.get('/stats', (_req, res) => {
      res.send('stats');
    });
    app.use('/admin/:tenant', admin);
    app.get('/admin/:tenant/other', (_req, res) => {
      res.send('other');
    });
    // next('route') skips to the next matching route.
    app.get(
      '/skip/:id',
      (_req, _res, next) => {
        next('route');
      },
      () => {},
    );
    app.get('/skip/:id', (_req, res) => {
      res.send('second');
    });
    // A regular-expression route.
    app.get(/^\/re\/(\d+)$/, (_req, res) => {
      res.send('re');
    });
    // An error turned into a 4xx by the application's error handler is not a server error.
    app.get('/teapot', () => {
      throw Object.assign(new Error('short and stout'), { status: 418 });
    });
    app.use(
      (
        err: { status?: number },
        _req: express.Request,
        res: express.Response,
        next: express.NextFunction,
      ) => {
        if (err.status === 418) res.status(418).send('teapot');
        else next(err);
      },
    );
    server = await listen(app);
  });
  afterAll(() => server.close());

  it.each([
    ['/ping', '/ping', '200'],
    ['/admin/acme/stats', '/admin/:tenant/stats', '200'],
    ['/admin/acme/other', '/admin/:tenant/other', '200'],
    ['/skip/1', '/skip/:id', '200'],
    ['/re/42', String(/^\/re\/(\d+)$/), '200'],
    ['/teapot', '/teapot', '418'],
  ])('%s is labelled %s', async (path, route, status) => {
    expect(String((await send(`${server.url}${path}`)).status)).toBe(status);
    const h = (await scrape(`${server.url}/metrics`)).families.get('http_server_request_duration_seconds');
    const sample = h?.samples.find((s) => s.name.endsWith('_count') && s.labels.http_route === route);
    expect(sample?.labels.http_response_status_code).toBe(status);
    expect(sample && 'error_type' in sample.labels).toBe(false);
    expect(sampleValue(h, 'http_server_request_duration_seconds_count', { http_route: route })).toBe(1);
  });
});
