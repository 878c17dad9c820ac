import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '@ballast/core';
import type { RetailFlow } from '../../src/service.js';
import { ACME, ADMIN, call, order, startTestService, type ApiPage } from '../helpers.js';

interface Key {
  id: string;
  secret?: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  expiresAt: string | null;
}
interface Audit {
  actor: string;
  action: string;
  targetId: string;
}

// Embedded RetailFlow without an identity provider: API keys only, managed through /admin/identity.
describe('API keys through /admin/identity (embedded, no IdP)', () => {
  let service: RetailFlow;
  let clock: ManualClock;
  beforeAll(async () => {
    ({ service, clock } = await startTestService());
  });
  afterAll(async () => {
    await service?.shutdown();
  });
  const admin = (method: string, path: string, body?: unknown) =>
    call<Key & { items: Key[] }>(service.opsUrl, method, `/admin/identity${path}`, {
      key: ADMIN,
      ...(body === undefined ? {} : { body }),
    });

  it('keeps the tenants-table keys working and refuses access tokens when no issuer is configured', async () => {
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: ACME })).status).toBe(200);
    const jwtShaped = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const refused = await call(service.url, 'GET', '/api/v1/orders', { key: jwtShaped });
    expect(refused.status).toBe(401);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('issues a key that works on the API, shows its last use, rotates with overlap and revokes at once', async () => {
    const issued = await admin('POST', '/tenants/acme/api-keys', { name: 'checkout-service' });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const secret = issued.body.secret!;

    const created = await order(service.url, secret, 'key-1');
    expect(created.status).toBe(201);
    const listed = await admin('GET', '/tenants/acme/api-keys');
    expect(listed.body.items[0]).toMatchObject({
      id: issued.body.id,
      lastUsedAt: new Date(clock.now()).toISOString(),
    });
    expect(JSON.stringify(listed.body)).not.toContain('rfk_');

    const rotated = await admin('POST', `/tenants/acme/api-keys/${issued.body.id}/rotate`, {
      overlapSec: 600,
    });
    expect(rotated.status).toBe(201);
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: secret })).status).toBe(200);
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: rotated.body.secret! })).status).toBe(
      200,
    );

    // Revocation reaches the request path at once, though the key's tenant is cached for a minute.
    expect((await admin('DELETE', `/tenants/acme/api-keys/${rotated.body.id}`)).status).toBe(204);
    const refused = await call(service.url, 'GET', '/api/v1/orders', { key: rotated.body.secret! });
    expect(refused.status).toBe(401);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);

    // The audit log names the actor and the key, never just "admin".
    const audit = await call<ApiPage<Audit>>(service.url, 'GET', '/api/v1/audit', { key: ACME });
    const placed = audit.body.items.find(
      (e) => e.action === 'order.created' && e.targetId === created.body.id,
    );
    expect(placed?.actor).toBe(`api-key:${issued.body.id}`);
    const keyEntries = audit.body.items.filter((e) => e.action.startsWith('api-key.'));
    expect(keyEntries.map((e) => [e.action, e.actor])).toEqual([
      ['api-key.revoke', 'admin-key'],
      ['api-key.rotate', 'admin-key'],
      ['api-key.issue', 'admin-key'],
    ]);
  });

  it('refuses bad input with 4xx problems and unknown tenants or keys with 404', async () => {
    expect((await admin('POST', '/tenants/acme/api-keys', { name: '' })).status).toBe(400);
    expect((await admin('POST', '/tenants/acme/api-keys', [1])).status).toBe(400);
    expect((await admin('POST', '/tenants/nobody/api-keys', { name: 'x' })).status).toBe(404);
    expect((await admin('DELETE', '/tenants/acme/api-keys/0000000000000000')).status).toBe(404);
    expect((await admin('DELETE', '/tenants/acme/api-keys/..%2f..')).status).toBe(404);
    expect((await admin('POST', '/revocations', { jti: '' })).status).toBe(400);
    const wrongKey = await call(service.opsUrl, 'GET', '/admin/identity/tenants/acme/api-keys', {
      key: ACME,
    });
    expect(wrongKey.status).toBe(401);
  });
});

describe('identity admin outside development', () => {
  it('refuses the static admin key when it is not allowed', async () => {
    const { createIdentity } = await import('../../src/identity/wiring.js');
    const { createSqliteRepository } = await import('../../src/data/index.js');
    const { systemClock } = await import('@ballast/core');
    const express = (await import('express')).default;
    const repo = await createSqliteRepository();
    const build = (allowAdminKey: boolean) =>
      createIdentity(
        { adminKey: ADMIN, allowAdminKey },
        { clock: systemClock, repo, driver: repo.driver, tenantLookup: (_k, load) => load(), namespace: 't' },
      );
    const results: number[] = [];
    for (const allow of [true, false]) {
      const app = express().use(express.json(), build(allow).adminRoutes);
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const { port } = server.address() as { port: number };
      const answer = await call(`http://127.0.0.1:${port}`, 'POST', '/revocations', {
        key: ADMIN,
        body: { jti: 'x' },
      });
      results.push(answer.status);
      await new Promise((r) => server.close(r));
    }
    await repo.close();
    expect(results).toEqual([204, 401]);
  });
});
