import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '@ballast/core';
import { loadOpenApiDocument, OpenApiSchemas } from '../src/openapi.js';
import type { RetailFlow } from '../src/service.js';
import { ACME, ADMIN, GLOBEX, OPS, call, settle, startTestService, type Answer } from './helpers.js';

// The OpenAPI 3.1 document is the contract: every real request below is checked against it (request body schema,
// documented status, content type, response schema), and every documented operation must be exercised.
const document = loadOpenApiDocument();
const schemas = new OpenApiSchemas(document);

interface Operation {
  readonly requestBody?: { content: Record<string, { schema: unknown }> };
  readonly responses: Record<string, ResponseSpec | { $ref: string }>;
}
interface ResponseSpec {
  readonly content?: Record<string, { schema: unknown }>;
  readonly headers?: Record<string, unknown>;
}

const templates = Object.keys(document.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));
const exercised = new Set<string>();

function resolveResponse(spec: ResponseSpec | { $ref: string }): ResponseSpec {
  if (!('$ref' in spec)) return spec;
  const name = spec.$ref.replace('#/components/responses/', '');
  const found = (document.components as unknown as { responses: Record<string, ResponseSpec> }).responses[
    name
  ];
  if (!found) throw new Error(`unresolved ${spec.$ref}`);
  return found;
}

/** Sends a request and checks request and response against the document. */
async function checked<T>(
  method: string,
  path: string,
  options: Parameters<typeof call>[3] = {},
  run: (p: Promise<Answer<T>>) => Promise<Answer<T>> = (p) => p,
): Promise<Answer<T>> {
  const pathname = path.split('?')[0]!;
  const match = templates.find((t) => t.pattern.test(pathname));
  expect(match, `${path} is not in the document`).toBeDefined();
  const operation = (document.paths[match!.template] as Record<string, Operation>)[method.toLowerCase()];
  expect(operation, `${method} ${match!.template} is not in the document`).toBeDefined();
  exercised.add(`${method} ${match!.template}`);
  if (options.body !== undefined && operation!.requestBody) {
    const schema = operation!.requestBody.content['application/json']?.schema;
    // Only requests meant to be valid are checked; the negative cases send invalid bodies on purpose.
    if (!path.includes('invalid')) expect(schemas.validateSchema(schema, options.body)).toEqual([]);
  }
  // Metrics, SLO pages and admin live on the ops listener (the document describes both listeners).
  const opsPath = /^\/(admin|metrics|slo)|^\/api\/v1\/slo/.test(path);
  const answer = await run(
    call<T>(opsPath ? service.opsUrl : service.url, method, path.replace('invalid', ''), options),
  );
  const documented = operation!.responses[String(answer.status)];
  expect(documented, `${method} ${match!.template} answered an undocumented ${answer.status}`).toBeDefined();
  const response = resolveResponse(documented!);
  const mediaType = answer.contentType.split(';')[0]!.trim();
  const content = response.content?.[mediaType];
  expect(
    content,
    `${answer.status} of ${method} ${match!.template} as ${mediaType} is undocumented`,
  ).toBeDefined();
  if (mediaType.endsWith('json')) {
    expect(
      schemas.validateSchema(content!.schema, answer.body),
      `${method} ${path} → ${answer.status}`,
    ).toEqual([]);
  }
  for (const header of Object.keys(response.headers ?? {})) {
    if (header === 'Idempotent-Replayed' || header === 'Location') continue;
    expect(answer.headers.has(header), `${header} on ${answer.status} of ${method} ${path}`).toBe(true);
  }
  return answer;
}

let service: RetailFlow;
let clock: ManualClock;
beforeAll(async () => {
  ({ service, clock } = await startTestService({ freeRequestsPerMinute: 30 }));
});
afterAll(() => service.shutdown());

describe('the OpenAPI 3.1 document', () => {
  it('is valid JSON Schema 2020-12 in every component', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const name of Object.keys(document.components.schemas))
      expect(() => schemas.validate(name, {})).not.toThrow();
  });

  it('describes every answer of the API', async () => {
    const order = (key: string, body: unknown, invalid = false) =>
      checked<{ id: string }>(
        'POST',
        invalid ? '/api/v1/orders?invalid' : '/api/v1/orders',
        { key: ACME, body, headers: { 'idempotency-key': key } },
        (p) => settle(clock, p),
      );
    await checked('GET', '/api/v1/products', { key: ACME });
    await checked('GET', '/api/v1/products?limit=2', { key: ACME });
    await checked('GET', '/api/v1/products?limit=0', { key: ACME });
    await checked('GET', '/api/v1/products/sku-mug', { key: ACME });
    await checked('GET', '/api/v1/products/sku-none', { key: ACME });
    await checked('GET', '/api/v1/products');

    const placed = await order('oa-1', { items: [{ productId: 'sku-mug', quantity: 1 }] });
    expect(placed.status).toBe(201);
    expect((await order('oa-1', { items: [{ productId: 'sku-mug', quantity: 1 }] })).status).toBe(201);
    expect((await order('oa-1', { items: [{ productId: 'sku-mug', quantity: 3 }] })).status).toBe(422);
    expect((await order('oa-2', { items: [] }, true)).status).toBe(400);
    expect((await order('oa-3', { items: [{ productId: 'sku-none', quantity: 1 }] })).status).toBe(404);
    expect(
      (
        await order('oa-4', {
          items: [
            { productId: 'sku-scale', quantity: 100 },
            { productId: 'sku-scale', quantity: 100 },
          ],
        })
      ).status,
    ).toBe(400);
    service.provider!.setKnobs({ down: true });
    expect((await order('oa-5', { items: [{ productId: 'sku-mug', quantity: 1 }] })).status).toBe(503);
    service.provider!.setKnobs({ down: false });

    await checked('GET', '/api/v1/orders', { key: ACME });
    await checked('GET', '/api/v1/orders?includeCancelled=true&limit=5', { key: ACME });
    await checked('GET', `/api/v1/orders/${placed.body.id}`, { key: ACME });
    await checked('GET', `/api/v1/orders/${placed.body.id}`, { key: GLOBEX });
    await checked('DELETE', `/api/v1/orders/${placed.body.id}`, { key: ACME });
    await checked('DELETE', `/api/v1/orders/${placed.body.id}`, { key: GLOBEX });
    await checked('GET', '/api/v1/audit', { key: ACME });
    await checked('GET', '/api/v1/audit?cursor=nonsense', { key: ACME });
    await checked('GET', '/api/v1/flags', { key: ACME });
    await checked('GET', '/api/v1/usage', { key: ACME });
    await checked('GET', '/api/v1/usage?period=2025-13', { key: ACME });
    await checked('GET', '/api/v1/invoice', { key: ACME, headers: { accept: 'text/html' } });
    await checked('GET', '/api/v1/invoice?period=2026-01', {
      key: ACME,
      headers: { accept: 'text/markdown' },
    });
    await checked('GET', '/api/v1/invoice', { key: ACME, headers: { accept: 'application/pdf' } });

    await checked('GET', '/api/v1/slo', { key: OPS });
    await checked('GET', '/slo', { key: OPS });
    await checked('GET', '/metrics', { key: OPS });
    await checked('GET', '/healthz');
    await checked('GET', '/readyz');
    await checked('GET', '/admin/chaos', { key: ADMIN });
    await checked('GET', '/admin/chaos', { key: GLOBEX });
    await checked('POST', '/admin/chaos', {
      key: ADMIN,
      body: { target: 'payments', enabled: false, errorRate: 0.5 },
    });
    await checked('POST', '/admin/chaos?invalid', { key: ADMIN, body: { target: 'payments' } });
    await checked('GET', '/admin/breakers', { key: ADMIN });
    await checked('POST', '/admin/breakers', {
      key: ADMIN,
      body: { name: 'payment-breaker', action: 'reset' },
    });
    expect(
      (await checked('POST', '/admin/breakers', { key: ADMIN, body: { name: 'no-such', action: 'reset' } }))
        .status,
    ).toBe(404);
    await checked('POST', '/admin/breakers?invalid', { key: ADMIN, body: { name: 'payment-breaker' } });
    expect((await checked('GET', '/admin/cost', { key: ADMIN })).status).toBe(200);
    expect(
      (await checked('GET', '/admin/cost', { key: ADMIN, headers: { accept: 'text/markdown' } })).status,
    ).toBe(200);
    expect(
      (await checked('GET', '/admin/cost', { key: ADMIN, headers: { accept: 'text/html' } })).status,
    ).toBe(200);
    expect(
      (await checked('GET', '/admin/cost', { key: ADMIN, headers: { accept: 'image/png' } })).status,
    ).toBe(406);
    expect((await checked('GET', '/admin/cost', { key: GLOBEX })).status).toBe(401);
    expect((await checked('POST', '/admin/cost/reset', { key: ADMIN })).status).toBe(200);
    expect((await checked('POST', '/admin/cost/reset', {})).status).toBe(401);
    const limit = '/admin/tenants/globex/limit';
    await checked('POST', limit, { key: ADMIN, body: { requestsPerMinute: 30 } });
    await checked('POST', limit, { key: ADMIN, body: { requestsPerMinute: null } });
    expect(
      (await checked('POST', '/admin/tenants/initech/limit', { key: ADMIN, body: { requestsPerMinute: 1 } }))
        .status,
    ).toBe(404);
    await checked('POST', `${limit}?invalid`, { key: ADMIN, body: { requestsPerMinute: 'many' } });
    await checked('GET', '/admin/routes', { key: ADMIN });
    const priority = '/admin/routes/listOrders/priority';
    await checked('POST', priority, { key: ADMIN, body: { priority: 'sheddable' } });
    await checked('POST', priority, { key: ADMIN, body: { priority: null } });
    expect(
      (await checked('POST', '/admin/routes/nope/priority', { key: ADMIN, body: { priority: 'critical' } }))
        .status,
    ).toBe(404);
    await checked('POST', `${priority}?invalid`, { key: ADMIN, body: { priority: 'urgent' } });
    const deadLetters = `/admin/dead-letters/${service.events.fulfilment.queue}`;
    await checked('POST', deadLetters, { key: ADMIN, body: { action: 'replay', max: 5 } });
    expect(
      (await checked('POST', '/admin/dead-letters/nope', { key: ADMIN, body: { action: 'discard' } })).status,
    ).toBe(404);
    await checked('POST', `${deadLetters}?invalid`, { key: ADMIN, body: { action: 'discard', max: 0 } });
    const override = (body: unknown, invalid = false) =>
      checked('POST', invalid ? '/admin/flags?invalid' : '/admin/flags', { key: ADMIN, body });
    expect((await override({ flag: 'recommendations', tenantId: 'globex', enabled: false })).status).toBe(
      200,
    );
    expect((await override({ flag: 'recommendations', tenantId: 'globex', enabled: null })).status).toBe(200);
    expect((await override({ flag: 'recommendations', tenantId: 'initech', enabled: true })).status).toBe(
      404,
    );
    expect((await override({ flag: 'recommendations' }, true)).status).toBe(400);
    await checked('POST', '/admin/flags', {
      key: GLOBEX,
      body: { flag: 'recommendations', tenantId: null, enabled: true },
    });

    // Until the free plan's minute is used up: 200s with RateLimit headers, then a documented 429.
    let last: Answer | undefined;
    for (let i = 0; i < 40 && last?.status !== 429; i++)
      last = await checked('GET', '/api/v1/flags', { key: GLOBEX });
    expect(last?.status).toBe(429);

    const operations = Object.entries(document.paths).flatMap(([template, item]) =>
      Object.keys(item)
        .filter((k) => ['get', 'post', 'delete', 'put', 'patch'].includes(k))
        .map((m) => `${m.toUpperCase()} ${template}`),
    );
    expect(operations.filter((o) => !exercised.has(o))).toEqual([]);
  });
});
