import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, call, startTestService } from '../helpers.js';

// Found by an attack: API answers carried neither `X-Content-Type-Options: nosniff` nor `Cache-Control: no-store`
// (a shared cache could keep one tenant's orders), and refusal bodies named internal policies (the priority class
// of the shedder, the inventory bulkhead, chaos experiments).

let service: RetailFlow;
beforeAll(async () => {
  service = (await startTestService()).service;
});
afterAll(async () => {
  await service.shutdown();
});

describe('API answers', () => {
  it.each([
    ['GET', '/api/v1/orders', ACME],
    ['GET', '/api/v1/orders', undefined],
    ['GET', '/api/v1/nothing', ACME],
    ['GET', '/healthz', undefined],
  ])('%s %s carries nosniff and no-store', async (method, path, key) => {
    const answer = await call(service.url, method, path, key === undefined ? {} : { key });
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('refusals say what to do, not which internal policy refused', () => {
    const body = JSON.stringify(service.policies.refusal('critical'));
    expect(body).not.toMatch(/critical|sheddable|priority|toobusy|bulkhead|chaos/i);
  });
});
