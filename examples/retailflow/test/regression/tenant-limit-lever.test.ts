import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, ADMIN, GLOBEX, call, startTestService } from '../helpers.js';

// Found by an on-call drill: the rate-limit runbook told on-call to lower a flooding tenant's limit, which could
// only be done in code. The lever is `POST /admin/tenants/:tenantId/limit` on the ops listener, audited.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe("one tenant's rate limit at run time", () => {
  it('lowers and restores one tenant’s limit, leaves the others alone, and audits each change', async () => {
    const started = await startTestService({ freeRequestsPerMinute: 100, proRequestsPerMinute: 100 });
    service = started.service;
    const svc = started.service;
    const get = (key: string) => call(svc.url, 'GET', '/api/v1/products', { key });

    const lowered = await call(svc.opsUrl, 'POST', '/admin/tenants/acme/limit', {
      key: ADMIN,
      body: { requestsPerMinute: 2 },
    });
    expect(lowered.status).toBe(200);
    expect(lowered.body).toEqual({ tenantId: 'acme', requestsPerMinute: 2, override: true });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(ACME)).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await get(GLOBEX)).status).toBe(200);

    const cleared = await call(svc.opsUrl, 'POST', '/admin/tenants/acme/limit', {
      key: ADMIN,
      body: { requestsPerMinute: null },
    });
    expect(cleared.body).toEqual({ tenantId: 'acme', requestsPerMinute: 100, override: false });
    // The tenant's allowance refills at the restored rate (100 a minute: more than one a second).
    started.clock.advance(1000);
    expect((await get(ACME)).status).toBe(200);

    started.clock.advance(60_000);
    const audit = await call<{ items: { action: string; details: unknown }[] }>(
      svc.url,
      'GET',
      '/api/v1/audit',
      {
        key: ACME,
      },
    );
    expect(audit.body.items.filter((e) => e.action === 'tenant.limit').map((e) => e.details)).toEqual(
      expect.arrayContaining([
        { tenantId: 'acme', requestsPerMinute: 2, override: true },
        { tenantId: 'acme', requestsPerMinute: 100, override: false },
      ]),
    );
  });

  it('refuses an unknown tenant (404), a bad body (400) and a caller without the admin key (401)', async () => {
    const started = await startTestService();
    service = started.service;
    const ops = started.service.opsUrl;
    const body = { requestsPerMinute: 5 };
    expect((await call(ops, 'POST', '/admin/tenants/nobody/limit', { key: ADMIN, body })).status).toBe(404);
    expect(
      (await call(ops, 'POST', '/admin/tenants/acme/limit', { key: ADMIN, body: { requestsPerMinute: -1 } }))
        .status,
    ).toBe(400);
    expect((await call(ops, 'POST', '/admin/tenants/acme/limit', { key: ACME, body })).status).toBe(401);
  });
});
