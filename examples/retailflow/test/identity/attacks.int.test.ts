import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import {
  buildTokenAttacks,
  runTokenAttacks,
  type TokenAttackResult,
} from '../../src/identity/attack-corpus.js';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';
import { clientCredentials } from '../../src/identity/oauth-client.js';
import type { RetailFlow } from '../../src/service.js';
import { ACME, ADMIN, startTestService } from '../helpers.js';

// The token attack corpus against a RetailFlow that trusts a real authorization server (oidc-provider) on loopback:
// every forged, stolen, revoked or misused token is refused with a 401/403 (404 for another tenant's order) and a
// problem body, never a 5xx; a valid token is served.
describe('token attack corpus', () => {
  let idp: DevIdp;
  let service: RetailFlow;
  let results: TokenAttackResult[];

  beforeAll(async () => {
    // The authorization server's revocation events feed RetailFlow's denylist (the same process here; through
    // Redis when they run apart).
    const pending: Promise<void>[] = [];
    let url = '';
    const revoke = async (gid: string) => {
      const response = await fetch(`${url}/admin/identity/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ gid }),
      });
      expect(response.status).toBe(204);
    };
    idp = await startDevIdp({ onGrantRevoked: (gid) => void pending.push(revoke(gid)) });
    const clock = new ManualClock(Date.now());
    ({ service } = await startTestService({ oidcIssuer: idp.issuer, oidcAudience: idp.audience }, { clock }));
    url = service.opsUrl;
    const attacks = await buildTokenAttacks({
      idp,
      serviceUrl: service.url,
      opsUrl: service.opsUrl,
      adminKey: ADMIN,
      now: () => clock.now(),
    });
    await Promise.all(pending);
    expect(pending.length).toBe(1);
    results = await runTokenAttacks(service.url, attacks);
  }, 60_000);

  afterAll(async () => {
    await service?.shutdown();
    await idp?.close();
  });

  it('serves the valid token', () => {
    expect(results.find((r) => r.name.startsWith('control'))).toMatchObject({
      status: 200,
      asExpected: true,
    });
  });

  it('refuses every attack with a 4xx problem body and no 5xx', () => {
    const attacks = results.filter((r) => !r.name.startsWith('control'));
    expect(attacks.length).toBeGreaterThanOrEqual(19);
    expect(attacks.filter((r) => !r.asExpected)).toEqual([]);
    expect(attacks.filter((r) => r.status >= 500)).toEqual([]);
  });

  it('records the token subject and client as the actor of what it did', async () => {
    const audit = await fetch(`${service.url}/api/v1/audit`, {
      headers: { authorization: `Bearer ${ACME}` },
    });
    const body = (await audit.json()) as { items: { action: string; actor: string }[] };
    expect(body.items.find((e) => e.action === 'order.created')?.actor).toBe('jwt:acme-backend@acme-backend');
  });

  it('lets an operator token with the admin scope revoke, and audits it with its subject', async () => {
    const { access_token } = await clientCredentials(
      idp.issuer,
      { id: 'ops-console', secret: 'ops-console-dev-secret' },
      'admin',
      idp.audience,
    );
    const response = await fetch(`${service.opsUrl}/admin/identity/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jti: 'operator-test' }),
    });
    expect(response.status).toBe(204);
    // The same token is useless on the tenant API: it names no tenant, so the front door does not accept it.
    const api = await fetch(`${service.url}/api/v1/orders`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(api.status).toBe(401);
    const audit = await service.repo.listAudit('acme', { includeSystem: true, limit: 50 });
    expect(audit.items.find((e) => e.targetId === 'operator-test')?.actor).toBe(
      'jwt:ops-console@ops-console',
    );
  });
});
