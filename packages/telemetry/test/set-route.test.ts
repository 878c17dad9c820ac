import express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { metricsHandler } from '../src/metrics-handler.js';
import { redMiddleware } from '../src/http/red-middleware.js';
import { setRoute } from '../src/http/route-capture.js';
import { listen, sampleValue, scrape, send } from './support/http.js';

const H = 'http_server_request_duration_seconds';

// A front door on plain node:http, as a load shedder in front of express is: refused requests never reach a
// router, and setRoute gives them their route template.
describe('setRoute', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    const metrics = createMetricsRegistry();
    const red = redMiddleware(metrics);
    const app = express();
    app.use(red);
    app.get('/metrics', metricsHandler(metrics));
    app.get('/orders/:id', (req, res) => {
      setRoute(res, '/not-this'); // a router already matched: its template wins
      res.send(req.params.id);
    });
    const front = (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/orders/refuse')) {
        red(req, res, () => {
          setRoute(res, '/orders/:id');
          res.statusCode = 503;
          res.end();
        });
        return;
      }
      app(req, res);
    };
    server = await listen(front);
  });
  afterAll(() => server.close());

  it('labels a request answered before routing with the given template', async () => {
    expect((await send(`${server.url}/orders/refuse-1`)).status).toBe(503);
    expect((await send(`${server.url}/orders/refuse-2`)).status).toBe(503);
    expect((await send(`${server.url}/orders/7`)).status).toBe(200);
    const h = (await scrape(`${server.url}/metrics`)).families.get(H);
    const count = (status: string) =>
      sampleValue(h, `${H}_count`, { http_route: '/orders/:id', http_response_status_code: status });
    expect(count('503')).toBe(2);
    expect(count('200')).toBe(1);
    expect(sampleValue(h, `${H}_count`, { http_route: '/not-this' })).toBeUndefined();
    expect(sampleValue(h, `${H}_count`, { http_route: '__unmatched__' })).toBeUndefined();
  });

  it('is a no-op for a response no RED middleware records, and rejects a template that is not a path', () => {
    const res = {};
    expect(() => setRoute(res, '/x')).not.toThrow();
    expect(() => setRoute(res, 'orders')).toThrow(
      /template must be a path template starting with "\/", got "orders"/,
    );
  });
});
