import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, GLOBEX, call, startTestService } from '../helpers.js';
import { useDevTokens } from '../identity/dev-tokens.js';

// Found by attacking the failure budget. Failed authentications are counted per source address, and a source over
// its budget is refused unread unless its credential authenticated in the last ten minutes. Two ways round it
// locked legitimate clients out:
// - behind a load balancer every client has the balancer's address: thirty wrong credentials a minute from anyone
//   refused every credential not seen recently, from everyone;
// - a client sharing an address with an attacker (an office, a NAT) is refused each time its access token is
//   refreshed, the new token never having been seen.
// Now the proxies listed in TRUSTED_PROXIES are believed about the client's address (X-Forwarded-For, read from
// the right), and a token never seen that claims a subject which authenticated recently is verified, within a
// failure budget of that subject's own.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
/** One wrong key, forwarded for `forwarded`: its status. */
const guess = async (url: string, forwarded: string) =>
  (await call(url, 'GET', '/api/v1/orders', { key: 'another-guess-xxxxxxxx', ...from(forwarded) })).status;
const attack = async (url: string, n: number, headers: Record<string, string> = {}) => {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    statuses.push(
      (await call(url, 'GET', '/api/v1/orders', { key: `stolen-guess-${i}-xxxxxxxx`, headers })).status,
    );
  }
  return statuses;
};

describe('clients behind one load balancer', () => {
  it('each keep their own failure budget when the balancer is trusted', async () => {
    // The test's requests come from loopback: loopback plays the load balancer, which appends what it saw.
    service = (await startTestService({ authFailuresPerMinute: 3, trustedProxies: ['127.0.0.1', '::1'] }))
      .service;
    const attacker = await attack(service.url, 6, from('203.0.113.9').headers);
    expect(attacker).toEqual([401, 401, 401, 429, 429, 429]);
    // Another client, never seen before, through the same balancer.
    expect(
      (await call(service.url, 'GET', '/api/v1/products', { key: GLOBEX, ...from('198.51.100.7') })).status,
    ).toBe(200);
    // The attacker writes a victim's address in the header: the balancer appends the attacker's own, which is the
    // one believed.
    expect(await guess(service.url, '198.51.100.7, 203.0.113.9')).toBe(429);
    // Garbage in the header (not an address) stops the walk at the last address read: the balancer's own view, here
    // loopback itself, whose budget is untouched.
    expect(await guess(service.url, '203.0.113.9, not-an-ip')).toBe(401);
  });

  it('are one source when no proxy is trusted: the header is ignored, and rotating it buys no budget', async () => {
    service = (await startTestService({ authFailuresPerMinute: 3 })).service;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (
          await call(service.url, 'GET', '/api/v1/orders', {
            key: `guess-${i}-xxxxxxxx`,
            ...from(`203.0.113.${i}`),
          })
        ).status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    expect(
      (await call(service.url, 'GET', '/api/v1/products', { key: GLOBEX, ...from('198.51.100.7') })).status,
    ).toBe(429);
  });

  it('refuses a malformed TRUSTED_PROXIES at start-up, naming it', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 10.0.0.300' })).toThrow(
      /TRUSTED_PROXIES.*10\.0\.0\.300/s,
    );
    expect(() => loadConfig({ TRUSTED_PROXIES: '10.0.0.0/33' })).toThrow(/TRUSTED_PROXIES/);
    expect(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8 ,fd00::/8,' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
    ]);
  });
});

describe('a client sharing its address with an attacker', () => {
  const tokens = useDevTokens();
  const token = () => tokens.acmeToken();
  const forged = async (subject: string) => (await tokens.forged(subject))[0]!;

  it('keeps working when its token is refreshed, and a forged token naming it spends a budget of its own', async () => {
    const started = await tokens.service({ authFailuresPerMinute: 3 });
    service = started.service;
    const url = service.url;
    expect((await call(url, 'GET', '/api/v1/orders', { key: await token() })).status).toBe(200);
    expect(await attack(url, 4)).toEqual([401, 401, 401, 429]);

    // A refreshed token (never seen) for the subject that authenticated a moment ago: verified, and served.
    const refreshed = await token();
    expect((await call(url, 'GET', '/api/v1/orders', { key: refreshed })).status).toBe(200);
    // An API key never seen from this source is still refused unread (keys claim no subject).
    expect((await call(url, 'GET', '/api/v1/products', { key: GLOBEX })).status).toBe(429);
    // A token for a subject that never authenticated: refused unread.
    expect((await call(url, 'GET', '/api/v1/orders', { key: await forged('nobody-seen') })).status).toBe(429);
    // Forged tokens naming the known subject cost one verification each, until its own budget is spent.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await call(url, 'GET', '/api/v1/orders', { key: await forged('acme-backend') })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Then that subject's unseen tokens wait too; a token already seen keeps working.
    expect((await call(url, 'GET', '/api/v1/orders', { key: await token() })).status).toBe(429);
    expect((await call(url, 'GET', '/api/v1/orders', { key: refreshed })).status).toBe(200);
    expect((await call(url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(429); // never seen here either

    // A minute later every budget has room again.
    started.clock.advance(60_000);
    expect((await call(url, 'GET', '/api/v1/orders', { key: await token() })).status).toBe(200);
  });
});
