import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, call, startTestService } from '../helpers.js';

// Found by an attack: client input that answered 500 (and paged on-call: twenty of them fired the checkout page
// alert). `Content-Encoding: gzip` on a body that is not gzip, `%ff` in a path, and a NUL inside a body
// `productId` (PostgreSQL refuses NUL in text). Every error express and its body parser raise for client input
// carries a 4xx status and is now a 4xx problem; product ids are validated at the edge; and repeated lines of one
// product are refused, since they added up past the per-line quantity limit.

let service: RetailFlow;
beforeAll(async () => {
  service = (await startTestService()).service;
});
afterAll(async () => {
  await service.shutdown();
});

const post = (headers: Record<string, string>, body: string) =>
  call(service.url, 'POST', '/api/v1/orders', {
    key: ACME,
    raw: body,
    headers: { 'content-type': 'application/json', 'idempotency-key': `k-${Math.random()}`, ...headers },
  });

describe('client input never answers 5xx', () => {
  it('a gzip Content-Encoding on a body that is not gzip is a 400 problem', async () => {
    const answer = await post(
      { 'content-encoding': 'gzip' },
      '{"items":[{"productId":"sku-mug","quantity":1}]}',
    );
    expect(answer.status).toBe(400);
    expect(answer.contentType).toContain('application/problem+json');
  });

  it('an unknown Content-Encoding is a 415 problem', async () => {
    const answer = await post({ 'content-encoding': 'br2' }, '{}');
    expect(answer.status).toBe(415);
  });

  it.each(['/api/v1/orders/%ff', '/api/v1/products/%ff%fe', '/api/v1/orders/%c0%af'])(
    '%s is a 400 problem',
    async (path) => {
      const answer = await call(service.url, 'GET', path, { key: ACME });
      expect(answer.status).toBe(400);
      expect(answer.body.title).toBe('Invalid path');
    },
  );

  it('a NUL in a body productId is a 400 problem that names the field', async () => {
    const answer = await post({}, JSON.stringify({ items: [{ productId: 'sku-\u0000mug', quantity: 1 }] }));
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.path).toBe('body/items/0/productId');
  });

  it('repeated lines of one product are a 400 problem (they would pass the per-line limit)', async () => {
    const line = { productId: 'sku-mug', quantity: 100 };
    const answer = await post({}, JSON.stringify({ items: [line, line, line] }));
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.path)).toEqual([
      'body/items/1/productId',
      'body/items/2/productId',
    ]);
  });
});
