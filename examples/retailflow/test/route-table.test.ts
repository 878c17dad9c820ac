import type { Router } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogRoutes } from '../src/catalog/routes.js';
import { API_PREFIX, API_ROUTES, matchRoute, RoutePriorities } from '../src/http/route-table.js';
import { classify } from '../src/http/priority.js';
import { sloOfRequest } from '../src/ops/slo-recorder.js';
import { orderRoutes } from '../src/orders/routes.js';
import { tenantRoutes } from '../src/tenant/routes.js';
import { usageRoutes } from '../src/billing/routes.js';
import type { RetailFlow } from '../src/service.js';
import { ACME, ADMIN, GLOBEX, OPS, call, startTestService } from './helpers.js';

/** `METHOD /path` of every route an express router registers. */
function registered(router: Router): string[] {
  const stack = (
    router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] }
  ).stack;
  return stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .filter((m) => m !== '_all')
          .map((m) => `${m.toUpperCase()} ${layer.route!.path}`)
      : [],
  );
}

describe('the route table', () => {
  it('lists exactly the routes the tenant API routers register', () => {
    const none = {} as never;
    const routers = [
      catalogRoutes(none, none, none, []),
      orderRoutes(none, none, none, none, []),
      tenantRoutes(none, none, []),
      usageRoutes(none, none, []),
    ];
    const express = routers.flatMap(registered).sort();
    const table = Object.values(API_ROUTES)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(express).toEqual(table);
  });

  it('gives each route its class and SLO, as the front door, classify and the SLO recorder read them', () => {
    expect(matchRoute('POST', '/orders')).toMatchObject({
      template: `${API_PREFIX}/orders`,
      priority: 'critical',
      slo: 'checkout',
    });
    expect(matchRoute('GET', '/products/sku-mug/')).toMatchObject({ priority: 'sheddable', slo: 'catalog' });
    expect(matchRoute('HEAD', '/products')).toMatchObject({ priority: 'default', slo: undefined });
    expect(matchRoute('DELETE', '/orders/o-1')?.spec.id).toBe('cancelOrder');
    expect(matchRoute('GET', '/Orders')).toBeUndefined(); // case-sensitive, as the routers
    expect(matchRoute('GET', '/products/a/b')).toBeUndefined();
    expect(classify({ method: 'POST', path: '/orders' })).toBe('critical');
    expect(classify({ method: 'GET', path: '/nowhere' })).toBe('default');
    expect(sloOfRequest({ method: 'POST', path: '/orders' })).toBe('checkout');
    expect(sloOfRequest({ method: 'GET', path: '/products/x' })).toBe('catalog');
    expect(sloOfRequest({ method: 'GET', path: '/orders' })).toBeUndefined();
  });

  it('overrides a route priority per instance and clears it', () => {
    const a = new RoutePriorities();
    const b = new RoutePriorities();
    const listOrders = matchRoute('GET', '/orders')!;
    expect(a.set('listOrders', 'sheddable')).toEqual({
      routeId: 'listOrders',
      method: 'GET',
      path: '/api/v1/orders',
      priority: 'sheddable',
      override: true,
    });
    expect(a.of(listOrders)).toBe('sheddable');
    expect(a.of(matchRoute('HEAD', '/orders')!)).toBe('default');
    expect(b.of(listOrders)).toBe('default');
    expect(a.set('listOrders', null).override).toBe(false);
    expect(a.of(listOrders)).toBe('default');
    expect(a.has('__proto__')).toBe(false);
    expect(a.has('constructor')).toBe(false);
    expect(a.list()).toHaveLength(Object.keys(API_ROUTES).length);
  });
});

describe('POST /admin/routes/:routeId/priority', () => {
  let service: RetailFlow;
  beforeAll(async () => {
    ({ service } = await startTestService());
  });
  afterAll(async () => {
    await service.shutdown();
  });

  const set = (routeId: string, body: unknown, key: string | null = ADMIN) =>
    call<Record<string, unknown>>(service.opsUrl, 'POST', `/admin/routes/${routeId}/priority`, {
      ...(key === null ? {} : { key }),
      body,
    });

  it('changes the priority the front door sheds a route with, audited with the operator', async () => {
    const listed = await call<{ routes: { routeId: string; priority: string }[] }>(
      service.opsUrl,
      'GET',
      '/admin/routes',
      {
        key: ADMIN,
      },
    );
    expect(listed.status).toBe(200);
    expect(listed.body.routes.find((r) => r.routeId === 'checkout')?.priority).toBe('critical');

    const changed = await set('listOrders', { priority: 'sheddable' });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({
      routeId: 'listOrders',
      method: 'GET',
      path: '/api/v1/orders',
      priority: 'sheddable',
      override: true,
    });
    expect(service.policies.routePriorities.of(matchRoute('GET', '/orders')!)).toBe('sheddable');
    const audit = await call<{ items: { action: string; actor: string; targetId: string }[] }>(
      service.url,
      'GET',
      '/api/v1/audit',
      { key: ACME },
    );
    expect(audit.body.items.find((e) => e.action === 'route.priority')).toMatchObject({
      targetId: 'listOrders',
      actor: 'admin-key',
    });
    expect((await set('listOrders', { priority: null })).body).toMatchObject({
      priority: 'default',
      override: false,
    });
  });

  it('refuses callers without the admin key, unknown routes and malformed bodies', async () => {
    expect((await set('checkout', { priority: 'sheddable' }, null)).status).toBe(401);
    expect([401, 403]).toContain((await set('checkout', { priority: 'sheddable' }, OPS)).status);
    expect([401, 403]).toContain((await set('checkout', { priority: 'sheddable' }, GLOBEX)).status);
    expect((await set('nope', { priority: 'critical' })).status).toBe(404);
    expect((await set('__proto__', { priority: 'critical' })).status).toBe(404);
    expect((await set('x'.repeat(5000), { priority: 'critical' })).status).toBe(404);
    for (const body of [
      { priority: 'urgent' },
      {},
      { priority: 1 },
      { priority: 'critical', extra: true },
      [],
    ]) {
      expect((await set('checkout', body)).status).toBe(400);
    }
    // Nothing changed.
    expect(service.policies.routePriorities.get('checkout')).toMatchObject({
      priority: 'critical',
      override: false,
    });
  });
});
