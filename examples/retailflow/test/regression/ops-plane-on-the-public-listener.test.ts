import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, ADMIN, GLOBEX, OPS, call, order, startTestService, type ApiPage } from '../helpers.js';

// Found by an attack: `/metrics` (per-tenant traffic), `/slo` and `/admin/*` answered on the public listener,
// `/metrics` without any credential; the payment simulator's drill knobs took no credential; wrong admin keys were
// never throttled (23k tries in 5 s). The ops plane now has its own listener (loopback by default) and token.

let service: RetailFlow;
beforeAll(async () => {
  service = (await startTestService()).service;
});
afterAll(async () => {
  await service.shutdown();
});

describe('the ops plane', () => {
  it.each([
    ['GET', '/metrics'],
    ['GET', '/slo'],
    ['GET', '/api/v1/slo'],
    ['GET', '/admin/chaos'],
    ['POST', '/admin/chaos'],
  ])('%s %s is not on the public listener', async (method, path) => {
    const answer = await call(service.url, method, path, { key: ADMIN });
    expect(answer.status).toBe(404);
  });

  it('serves metrics and SLOs on the ops listener to the ops token only', async () => {
    expect((await call(service.opsUrl, 'GET', '/metrics')).status).toBe(401);
    expect((await call(service.opsUrl, 'GET', '/metrics', { key: ACME })).status).toBe(401);
    expect((await call(service.opsUrl, 'GET', '/metrics', { key: OPS })).status).toBe(200);
    expect((await call(service.opsUrl, 'GET', '/api/v1/slo', { key: OPS })).status).toBe(200);
    // The ops token reads; it does not administer.
    expect((await call(service.opsUrl, 'GET', '/admin/chaos', { key: OPS })).status).toBe(401);
    expect((await call(service.opsUrl, 'GET', '/admin/chaos', { key: ADMIN })).status).toBe(200);
    expect((await call(service.opsUrl, 'GET', '/readyz')).status).toBe(200);
  });

  it("guards the payment simulator's knobs with the ops token", async () => {
    const knobs = `${service.provider!.url}/admin/knobs`;
    expect((await fetch(knobs, { method: 'PUT', body: '{"down":true}' })).status).toBe(401);
    expect(service.provider!.knobs().down).toBe(false);
    const allowed = await fetch(knobs, { headers: { authorization: `Bearer ${OPS}` } });
    expect(allowed.status).toBe(200);
  });

  it('throttles wrong admin keys per source, before comparing them', async () => {
    const own = (await startTestService({ authFailuresPerMinute: 5 })).service;
    const statuses: number[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        statuses.push((await call(own.opsUrl, 'GET', '/admin/chaos', { key: `guess-${i}-xxxxxxxx` })).status);
      }
      // Even the right key waits its turn from a source that guessed too much.
      const right = await call(own.opsUrl, 'GET', '/admin/chaos', { key: ADMIN });
      expect(right.status).toBe(429);
      expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await own.shutdown();
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
  });

  it('numbers audit entries per tenant, so one tenant cannot count what another does', async () => {
    for (let i = 0; i < 3; i++) expect((await order(service.url, ACME, `seq-${i}`)).status).toBe(201);
    const seqs = async (key: string) =>
      (
        await call<ApiPage<{ seq: number; action: string }>>(service.url, 'GET', '/api/v1/audit', { key })
      ).body.items
        .filter((e) => e.action.startsWith('order.'))
        .map((e) => e.seq);
    expect((await order(service.url, GLOBEX, 'seq-g')).status).toBe(201);
    // globex's first order entries are numbered from its own first entry, whatever acme did before.
    expect(Math.min(...(await seqs(GLOBEX)))).toBe(1);
  });
});
