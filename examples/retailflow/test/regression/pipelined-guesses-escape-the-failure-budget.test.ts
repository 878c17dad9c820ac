import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader } from 'jose';
import type { RetailFlow } from '../../src/service.js';
import { call, countLookups, startTestService } from '../helpers.js';
import { useDevTokens } from '../identity/dev-tokens.js';

// Found by attacking the failure budget. RequestAuthentication.check asked the budget (mayTry) before it awaited the
// authenticators and counted the failure (fail) only after they answered: the check and the count were not one
// step. HTTP/1.1 pipelining puts any number of requests in one TCP read; node:http parses them all and runs each
// one's check up to its first await in the same synchronous pass, so every request of the batch saw the budget as it
// was before any of them failed: one connection, one write, hundreds of unverified guesses (each a database lookup or
// a signature check) where the budget allows 3, and the next batch whole again one emission interval later. Now a
// check under way counts against its source's budget (and its vouching subject's) until it ends.

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
  it('reach the store only as many times as the budget allows', async () => {
    const started = await startTestService({ authFailuresPerMinute: 3 });
    service = started.service;
    const lookups = countLookups(service);
    const guesses = Array.from({ length: 200 }, (_, i) => `pipelined-guess-${i}-xxxxxxxx`);
    const statuses = await pipelined(service.url, guesses);
    // Pipelined as sent one after the other: 3 read, the rest refused unread.
    expect({ answered401: count(statuses, 401), lookups: lookups() }).toEqual({ answered401: 3, lookups: 3 });
  });

  it('pass one at a time again once the budget refills, not a batch', async () => {
    const started = await startTestService({ authFailuresPerMinute: 3 });
    service = started.service;
    const first = Array.from({ length: 50 }, (_, i) => `first-batch-${i}-xxxxxxxx`);
    await pipelined(service.url, first);
    // One emission interval (20 s) later, one more attempt may fail, however many arrive together.
    started.clock.advance(20_000);
    const second = await pipelined(
      service.url,
      Array.from({ length: 50 }, (_, i) => `second-batch-${i}-xxxxxxxx`),
    );
    expect(count(second, 401)).toBeLessThanOrEqual(1);
  });
});

describe('pipelined forged tokens', () => {
  const tokens = useDevTokens();
  const token = () => tokens.acmeToken();
  const forge = (subject: string, count: number, kid: string) => tokens.forged(subject, { kid, count });

  it('are verified only as many times as the source budget allows', async () => {
    ({ service } = await tokens.service({ authFailuresPerMinute: 3 }));
    const kid = decodeProtectedHeader(await token()).kid!;
    const statuses = await pipelined(service.url, await forge('nobody', 100, kid));
    expect(count(statuses, 401)).toBe(3);
  });

  it("naming a known subject from a source over its budget, are verified only as many times as that subject's budget allows", async () => {
    ({ service } = await tokens.service({ authFailuresPerMinute: 3 }));
    const real = await token();
    expect((await call(service.url, 'GET', '/api/v1/orders', { key: real })).status).toBe(200);
    for (let i = 0; i < 4; i++)
      await call(service.url, 'GET', '/api/v1/orders', { key: `spent-${i}-xxxxxxxx` });
    const statuses = await pipelined(
      service.url,
      await forge('acme-backend', 100, decodeProtectedHeader(real).kid!),
    );
    // The subject's own budget is 3: the regression test sees [401, 401, 401, 429, 429] one at a time.
    expect(count(statuses, 401)).toBe(3);
  });
});
