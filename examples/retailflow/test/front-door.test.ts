import http, { type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { setErrorHandler } from '@ballast/core';
import { LoadShedError, type LimiterPermit } from '@ballast/resilience';
import { createMetricsRegistry, redMiddleware, renderMetrics } from '@ballast/telemetry';
import { apiRoute, frontDoor, type IngressGate } from '../src/http/front-door.js';
import { RoutePriorities } from '../src/http/route-table.js';
import type { RequestPriority } from '../src/policies.js';

describe('apiRoute', () => {
  it.each([
    ['POST', '/api/v1/orders', { template: '/api/v1/orders', priority: 'critical' }],
    ['POST', '/API/V1/Orders/', undefined],
    ['GET', '/api/v1/orders?limit=5', { template: '/api/v1/orders', priority: 'default' }],
    ['DELETE', '/api/v1/orders/o-1', { template: '/api/v1/orders/:orderId', priority: 'default' }],
    ['GET', '/api/v1/products', { template: '/api/v1/products', priority: 'sheddable' }],
    [
      'GET',
      '/api/v1/products/sku-mug?x=1',
      { template: '/api/v1/products/:productId', priority: 'sheddable' },
    ],
    ['HEAD', '/api/v1/products', { template: '/api/v1/products', priority: 'default' }],
    ['GET', '/api/v1/audit', { template: '/api/v1/audit', priority: 'default' }],
  ])('%s %s is %j', (method, url, expected) => {
    expect(apiRoute(method, url)).toEqual(expected);
  });

  it.each([
    ['GET', '/api/v1/slo'], // an ops endpoint: never shed
    ['GET', '/healthz'],
    ['POST', '/admin/chaos'],
    ['PUT', '/api/v1/orders'],
    ['GET', '/api/v1/products/a/b'],
    ['GET', '/api/v1'],
    [undefined, '/api/v1/orders'],
  ])('%s %s is not a guarded API route', (method, url) => {
    expect(apiRoute(method, url)).toBeUndefined();
  });
});

/** A gate that sheds the classes in `shed` and records how each admitted request's permit ended. */
function scriptedGate(shed: ReadonlySet<RequestPriority>) {
  const ended: string[] = [];
  const gate: IngressGate = {
    acquire: (priority) => {
      if (shed.has(priority)) return Promise.reject(new LoadShedError('pressure', priority, 10));
      const permit: LimiterPermit = {
        priority,
        success: () => ended.push('success'),
        dropped: () => ended.push('dropped'),
        ignore: () => ended.push('ignore'),
      };
      return Promise.resolve(permit);
    },
  };
  return { gate, ended };
}

async function serve(listener: RequestListener) {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('frontDoor', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  function start(gate: IngressGate, app: RequestListener) {
    const metrics = createMetricsRegistry();
    const slo: string[] = [];
    const listener = frontDoor(app, {
      gate,
      instrumentation: [redMiddleware(metrics) as never],
      slo: (which, res) => res.once('finish', () => slo.push(`${which}:${res.statusCode}`)),
      body: (priority) => ({ title: 'Service overloaded', status: 503, priority }),
      contentType: 'application/problem+json',
      retryAfterSeconds: 2,
    });
    return { listener, metrics, slo };
  }

  it('refuses shed requests before the app, with a problem, Retry-After, RED metrics by route and the SLO', async () => {
    let reachedApp = 0;
    const { gate } = scriptedGate(new Set(['critical', 'sheddable']));
    const { listener, metrics, slo } = start(gate, (_req, res) => {
      reachedApp++;
      res.end('ok');
    });
    const server = await serve(listener);
    close = server.close;
    const res = await fetch(`${server.url}/api/v1/orders`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toEqual({ title: 'Service overloaded', status: 503, priority: 'critical' });
    expect((await fetch(`${server.url}/api/v1/products/sku-mug`)).status).toBe(503);
    // Not a guarded route, or a class the gate admits: straight to the app.
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe('ok');
    expect(await (await fetch(`${server.url}/api/v1/orders`)).text()).toBe('ok');
    expect(reachedApp).toBe(2);
    expect(slo).toEqual(['checkout:503', 'catalog:503']);
    const text = await renderMetrics(metrics, 'prometheus');
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{[^}]*http_route="\/api\/v1\/orders"[^}]*http_response_status_code="503"[^}]*\} 1/,
    );
    expect(text).toMatch(/http_route="\/api\/v1\/products\/:productId"[^}]*http_response_status_code="503"/);
    expect(text).not.toContain('__unmatched__');
  });

  it('keeps the connection of a refused request with a small body (drained), closes it for a large or chunked one', async () => {
    const { gate } = scriptedGate(new Set(['critical']));
    const { listener } = start(gate, (_req, res) => res.end('ok'));
    const server = await serve(listener);
    close = server.close;
    const refuse = (headers: Record<string, string>, body: string) =>
      new Promise<{ status: number; connection: string | undefined; sockets: number }>((resolve, reject) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const url = new URL(`${server.url}/api/v1/orders`);
        const send = (then: (status: number, connection: string | undefined) => void) => {
          const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
            res.resume();
            res.once('end', () => then(res.statusCode ?? 0, res.headers.connection));
          });
          req.once('socket', (socket) => sockets.add(socket));
          req.once('error', reject);
          req.end(body);
        };
        const sockets = new Set<unknown>();
        // Two refusals in a row on one keep-alive agent: one socket when the first connection was kept.
        send(() =>
          send((status, connection) => {
            agent.destroy();
            resolve({ status, connection, sockets: sockets.size });
          }),
        );
      });
    const small = await refuse({ 'content-type': 'application/json' }, '{"items":[]}');
    expect(small).toEqual({ status: 503, connection: 'keep-alive', sockets: 1 });
    const large = await refuse({ 'content-type': 'application/json' }, 'x'.repeat(64 * 1024));
    expect(large.status).toBe(503);
    expect(large.connection).toBe('close');
    expect(large.sockets).toBe(2);
    const chunked = await refuse({ 'transfer-encoding': 'chunked' }, '{}');
    expect(chunked.connection).toBe('close');
    expect(chunked.sockets).toBe(2);
  });

  it('holds the permit until the response ends: success, a drop for a 503, nothing for a client that left', async () => {
    const { gate, ended } = scriptedGate(new Set());
    let hang: (() => void) | undefined;
    const { listener } = start(gate, (req, res) => {
      if (req.url?.endsWith('busy')) {
        res.statusCode = 503;
        res.end();
      } else if (req.url?.endsWith('slow')) {
        hang = () => res.end('late');
      } else res.end('ok');
    });
    const server = await serve(listener);
    close = server.close;
    await (await fetch(`${server.url}/api/v1/products/fine`)).text();
    await (await fetch(`${server.url}/api/v1/products/busy`)).text();
    const abort = new AbortController();
    const left = fetch(`${server.url}/api/v1/products/slow`, { signal: abort.signal }).catch(() => undefined);
    await expect.poll(() => hang !== undefined).toBe(true);
    abort.abort();
    await left;
    await expect.poll(() => ended.length).toBe(3);
    hang?.();
    expect(ended).toEqual(['success', 'dropped', 'ignore']);
  });

  it('admits the request when the gate fails with anything but a shed, and reports it', async () => {
    const reported: string[] = [];
    const previous = setErrorHandler((_error, context) => reported.push(context));
    try {
      const { listener } = start({ acquire: () => Promise.reject(new Error('limiter bug')) }, (_req, res) =>
        res.end('served'),
      );
      const server = await serve(listener);
      close = server.close;
      expect(await (await fetch(`${server.url}/api/v1/orders`, { method: 'POST' })).text()).toBe('served');
      expect(reported).toEqual(['retailflow: ingress gate failed; request admitted']);
    } finally {
      setErrorHandler(previous);
    }
  });

  it('refuses a class being shed before authenticating it, and hands the tenant to the gate', async () => {
    const checked: string[] = [];
    const acquired: string[] = [];
    let shedding = true;
    const gate: IngressGate = {
      screen: (priority) => !(shedding && priority === 'sheddable'),
      acquire: (priority, tenant) => {
        acquired.push(`${priority}:${tenant}`);
        return Promise.resolve({ priority, success() {}, dropped() {}, ignore() {} });
      },
    };
    const metrics = createMetricsRegistry();
    const listener = frontDoor((_req, res) => res.end('ok'), {
      gate,
      instrumentation: [redMiddleware(metrics) as never],
      slo: () => undefined,
      body: () => ({ status: 503 }),
      contentType: 'application/problem+json',
      authenticate: (req) => {
        checked.push(req.url ?? '');
        return Promise.resolve({
          ok: true,
          auth: {
            principal: { tenantId: 'acme', subject: 'key:1', scopes: [], via: 'api-key' },
            tenant: { id: 'acme' } as never,
          },
        });
      },
    });
    const server = await serve(listener);
    close = server.close;
    // Shed class: 503 with no credential check at all.
    expect((await fetch(`${server.url}/api/v1/products`)).status).toBe(503);
    expect(checked).toEqual([]);
    // Admitted class: authenticated, then a permit for its tenant.
    expect((await fetch(`${server.url}/api/v1/orders`, { method: 'POST' })).status).toBe(200);
    expect(checked).toEqual(['/api/v1/orders']);
    expect(acquired).toEqual(['critical:acme']);
    shedding = false;
    expect((await fetch(`${server.url}/api/v1/products`)).status).toBe(200);
    expect(acquired).toEqual(['critical:acme', 'sheddable:acme']);
  });

  it("answers a refusal of the tenant's own excess with a 429 and its body, a 503 without one", async () => {
    let reachedApp = 0;
    const gate: IngressGate = {
      acquire: (priority) => Promise.reject(new LoadShedError('tenant-limit', priority, 100)),
    };
    const slo: string[] = [];
    const options = {
      gate,
      instrumentation: [],
      slo: (which: 'checkout' | 'catalog', res: ServerResponse) =>
        res.once('finish', () => slo.push(`${which}:${res.statusCode}`)),
      body: () => ({ status: 503 }),
      contentType: 'application/problem+json',
    };
    const app: RequestListener = (_req, res) => {
      reachedApp++;
      res.end('ok');
    };
    const limited = await serve(
      frontDoor(app, { ...options, tenantLimitBody: (priority) => ({ status: 429, priority }) }),
    );
    close = limited.close;
    const res = await fetch(`${limited.url}/api/v1/orders`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ status: 429, priority: 'critical' });
    await limited.close();
    const plain = await serve(frontDoor(app, options));
    close = plain.close;
    expect((await fetch(`${plain.url}/api/v1/orders`, { method: 'POST', body: '{}' })).status).toBe(503);
    expect(reachedApp).toBe(0);
    expect(slo).toEqual(['checkout:429', 'checkout:503']);
  });

  it('lets the request through when the admission signal throws, and reports it', async () => {
    const reported: string[] = [];
    const previous = setErrorHandler((_error, context) => reported.push(context));
    try {
      const { listener } = start(
        {
          screen: () => {
            throw new Error('signal bug');
          },
          acquire: (priority) => Promise.resolve({ priority, success() {}, dropped() {}, ignore() {} }),
        },
        (_req, res) => res.end('served'),
      );
      const server = await serve(listener);
      close = server.close;
      expect(await (await fetch(`${server.url}/api/v1/products`)).text()).toBe('served');
      expect(reported).toEqual(['retailflow: ingress admission signal failed; request let through']);
    } finally {
      setErrorHandler(previous);
    }
  });

  it('sheds a route with the priority an operator set for it on this instance', async () => {
    const { gate } = scriptedGate(new Set(['sheddable']));
    const priorities = new RoutePriorities();
    const listener = frontDoor((_req, res) => res.end('ok'), {
      gate,
      priorities,
      instrumentation: [],
      slo: () => undefined,
      body: () => ({ status: 503 }),
      contentType: 'application/problem+json',
    });
    const server = await serve(listener);
    close = server.close;
    expect((await fetch(`${server.url}/api/v1/orders`)).status).toBe(200);
    priorities.set('listOrders', 'sheddable');
    expect((await fetch(`${server.url}/api/v1/orders`)).status).toBe(503);
    expect((await fetch(`${server.url}/api/v1/orders/o-1`)).status).toBe(200); // another route: untouched
    priorities.set('listOrders', null);
    expect((await fetch(`${server.url}/api/v1/orders`)).status).toBe(200);
  });
});
