import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { SignJWT, decodeProtectedHeader, generateKeyPair } from 'jose';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';
import { clientCredentials } from '../../src/identity/oauth-client.js';
import type { RetailFlow } from '../../src/service.js';
import { call, startTestService } from '../helpers.js';

// Found by attacking the failure budget. RequestAuthentication.check asks the budget (mayTry) before it awaits the
// authenticators and counts the failure (fail) only after they answer: the check and the count are not one step.
// HTTP/1.1 pipelining puts any number of requests in one TCP read; node:http parses them all and runs each one's
// check up to its first await in the same synchronous pass, so every request of the batch sees the budget as it
// was before any of them failed. One connection, one write: hundreds of unverified guesses (each a database lookup
// or a signature check) where the budget allows 3. GCRA does not carry the overdraft (a denied request leaves the
// theoretical arrival time unchanged), so one emission interval later the next batch passes whole again.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

/** Every request on one connection, written at once (HTTP/1.1 pipelining): the statuses, in order. */
async function pipelined(url: string, credentials: readonly string[]): Promise<number[]> {
  const { hostname, port } = new URL(url);
  const socket = await new Promise<Socket>((resolve) => {
    const s = connect(Number(port), hostname, () => resolve(s));
  });
  return new Promise<number[]>((resolve, reject) => {
    let data = '';
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      if (statuses.length >= credentials.length) {
        socket.destroy();
        resolve(statuses);
      }
    });
    socket.write(
      credentials
        .map((c) => `GET /api/v1/orders HTTP/1.1\r\nHost: retailflow\r\nAuthorization: Bearer ${c}\r\n\r\n`)
        .join(''),
    );
  });
}

const count = (statuses: readonly number[], status: number) => statuses.filter((s) => s === status).length;

describe('pipelined wrong credentials from one source', () => {
  it('are each looked up in the store, far past the failure budget', async () => {
    const started = await startTestService({ authFailuresPerMinute: 3 });
    service = started.service;
    let lookups = 0;
    const find = service.repo.findTenantByApiKeyHash.bind(service.repo);
    service.repo.findTenantByApiKeyHash = (hash: string) => {
      lookups++;
      return find(hash);
    };
    const guesses = Array.from({ length: 200 }, (_, i) => `pipelined-guess-${i}-xxxxxxxx`);
    const statuses = await pipelined(service.url, guesses);
    // Sent one after the other, only 3 would be read (the regression test of the flood); pipelined, all 200 are.
    expect({ answered401: count(statuses, 401), lookups }).toEqual({ answered401: 3, lookups: 3 });
  });

  it('pass again whole one emission interval later (the overdraft is forgotten)', async () => {
    const started = await startTestService({ authFailuresPerMinute: 3 });
    service = started.service;
    const first = Array.from({ length: 50 }, (_, i) => `first-batch-${i}-xxxxxxxx`);
    await pipelined(service.url, first);
    // 50 failures were counted against a budget of 3 a minute: a fair limiter would keep this source out for
    // about 16 minutes. One emission interval (20 s) later:
    started.clock.advance(20_000);
    const second = await pipelined(
      service.url,
      Array.from({ length: 50 }, (_, i) => `second-batch-${i}-xxxxxxxx`),
    );
    expect(count(second, 401)).toBeLessThanOrEqual(1);
  });
});

describe('pipelined forged tokens', () => {
  let idp: DevIdp;
  beforeAll(async () => {
    idp = await startDevIdp({ accessTokenTtlSec: 300 });
  });
  afterAll(async () => {
    await idp?.close();
  });
  const token = async () =>
    (
      await clientCredentials(
        idp.issuer,
        { id: 'acme-backend', secret: 'acme-backend-dev-secret' },
        'orders:read',
        idp.audience,
      )
    ).access_token;
  const forge = async (subject: string, n: number, kid: string) => {
    const { privateKey } = await generateKeyPair('RS256');
    return Promise.all(
      Array.from({ length: n }, (_, i) =>
        new SignJWT({ scope: 'orders:read', client_id: subject })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
          .setIssuer(idp.issuer)
          .setSubject(subject)
          .setAudience(idp.audience)
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(`forged-${i}`)
          .sign(privateKey),
      ),
    );
  };

  it('are each verified, far past the per-source budget', async () => {
    const clock = new ManualClock(Date.now());
    service = (
      await startTestService(
        { authFailuresPerMinute: 3, oidcIssuer: idp.issuer, oidcAudience: idp.audience },
        { clock },
      )
    ).service;
    const kid = decodeProtectedHeader(await token()).kid!;
    const statuses = await pipelined(service.url, await forge('nobody', 100, kid));
    expect(count(statuses, 401)).toBe(3);
  });

  it("naming a known subject from a source over its budget, are each verified, far past that subject's budget", async () => {
    const clock = new ManualClock(Date.now());
    service = (
      await startTestService(
        { authFailuresPerMinute: 3, oidcIssuer: idp.issuer, oidcAudience: idp.audience },
        { clock },
      )
    ).service;
    const real = await token();
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: real })).status).toBe(200);
    for (let i = 0; i < 4; i++) await call(service.url, 'GET', '/api/v1/orders', { key: `spent-${i}-xxxxxxxx` });
    const statuses = await pipelined(
      service.url,
      await forge('acme-backend', 100, decodeProtectedHeader(real).kid!),
    );
    // The subject's own budget is 3: the regression test sees [401, 401, 401, 429, 429] one at a time.
    expect(count(statuses, 401)).toBe(3);
  });
});
