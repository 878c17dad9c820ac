import { buildTokenAttacks, runTokenAttacks, type TokenAttackResult } from '../../examples/retailflow/src/identity/attack-corpus.js';
import { startDevIdp } from '../../examples/retailflow/src/identity/dev-idp.js';
import { generateDevCertificates, mtlsFetch } from '../../examples/retailflow/src/identity/mtls.js';
import { clientCredentials } from '../../examples/retailflow/src/identity/oauth-client.js';
import { httpPaymentGateway } from '../../examples/retailflow/src/payments/client.js';
import { startPaymentSimulator } from '../../examples/retailflow/src/payments/simulator.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, fetch as clientFetch } from 'undici';
import { startProxy } from '../dr/regions.js';
import { KEYS, startService, type ServiceProcess } from './service.js';

/** What the security scenario measured. */
export interface SecurityResult {
  /** Every token attack and what RetailFlow answered. */
  readonly attacks: readonly TokenAttackResult[];
  /** Time from sending a revocation to the first refusal of the token, in ms, per sample. */
  readonly revokeToRefusalMs: readonly number[];
  /** True when the revocation went to one instance and the refusal was seen on another (shared through Redis). */
  readonly acrossInstances: boolean;
  /** mTLS: clients refused at the payment provider without RetailFlow's certificate (of those tried). */
  readonly mtlsRefused: number;
  readonly mtlsTried: number;
  /** The failure budget when clients share an address with an attacker (see {@link sharedAddress}). */
  readonly sharedAddress: SharedAddressResult;
  readonly goals: Record<string, { readonly value: number; readonly goal: number; readonly met: boolean }>;
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};

// The legitimate client of the revocation samples calls from its own loopback address: the attack corpus's
// failures are charged to 127.0.0.1's failed-authentication budget, and its API-key attacks spend it; the revocation
// figure must not depend on what the budget lets through.
const client = new Agent({ localAddress: '127.0.0.2' });

/** Failed authentications a source may make per minute on the scenario's instances (RetailFlow's default). */
const FAILURE_BUDGET = 30;

async function status(url: string, token: string): Promise<number> {
  const response = await clientFetch(`${url}/api/v1/orders`, {
    headers: { authorization: `Bearer ${token}` },
    dispatcher: client,
  });
  await response.body?.cancel();
  return response.status;
}

/** What the shared-address step answered. */
export interface SharedAddressResult {
  /** Wrong keys an attacker sent through HAProxy, and how many of them were refused 429 (its own budget spent). */
  readonly attackerTries: number;
  readonly attackerThrottled: number;
  /** What another client of the same HAProxy got for a key the instance had never seen. */
  readonly neighbourStatus: number;
  /** From an address whose budget an attacker spent: a token refreshed since its subject authenticated, and a key never seen. */
  readonly refreshedTokenStatus: number;
  readonly unseenKeyStatus: number;
}

/** `count` requests with wrong keys to `url` through `agent`; answers their statuses. */
async function guesses(url: string, agent: Agent, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await clientFetch(`${url}/api/v1/orders`, {
      headers: { authorization: `Bearer rf_guess_${i}_${Math.random().toString(36).slice(2)}` },
      dispatcher: agent,
    });
    await response.body?.cancel();
    statuses.push(response.status);
  }
  return statuses;
}

/**
 * Clients sharing an address with an attacker keep working. Behind HAProxy (`option forwardfor`) every client has
 * HAProxy's address; `a` trusts it (TRUSTED_PROXIES), so an attacker from 127.0.0.3 spending its failure budget
 * through HAProxy leaves another client (127.0.0.4) its own. On `b`, directly: once an attacker spent the address
 * 127.0.0.2's budget, a token refreshed since its subject authenticated from there is still verified and served,
 * and a key never seen is refused unread.
 */
async function sharedAddress(
  a: ServiceProcess,
  b: ServiceProcess,
  freshToken: () => Promise<string>,
  budget: number,
): Promise<SharedAddressResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ballast-security-'));
  const attacker = new Agent({ localAddress: '127.0.0.3' });
  const neighbour = new Agent({ localAddress: '127.0.0.4' });
  const proxy = await startProxy(dir, [{ name: 'a', region: 'a', port: Number(new URL(a.url).port), paymentPort: 0 }]);
  try {
    const tries = budget + 10;
    const attacked = await guesses(proxy.url, attacker, tries);
    const other = await clientFetch(`${proxy.url}/api/v1/products`, {
      headers: { authorization: `Bearer ${KEYS.globex}` },
      dispatcher: neighbour,
    });
    await other.body?.cancel();
    // `client` (127.0.0.2) authenticated acme-backend's tokens on `b` in the revocation samples.
    await guesses(b.url, client, budget + 5);
    const refreshed = await status(b.url, await freshToken());
    const unseen = await clientFetch(`${b.url}/api/v1/products`, {
      headers: { authorization: `Bearer ${KEYS.globex}` },
      dispatcher: client,
    });
    await unseen.body?.cancel();
    return {
      attackerTries: tries,
      attackerThrottled: attacked.filter((s) => s === 429).length,
      neighbourStatus: other.status,
      refreshedTokenStatus: refreshed,
      unseenKeyStatus: unseen.status,
    };
  } finally {
    await proxy.stop();
    await attacker.close();
    await neighbour.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The security scenario: a real authorization server (oidc-provider) on loopback, RetailFlow trusting it (two
 * instances sharing the Redis revocation list on real services), the token attack corpus (every attack must be
 * refused 401/403, or 404 for another tenant's object, with a problem body; never a 5xx; a valid token served), the
 * time from a revocation to the first refusal of the revoked token, and mutual TLS at the payment provider.
 */
export async function security(options: {
  readonly env: Record<string, string>;
  readonly revocationSamples: number;
  readonly log: (line: string) => void;
}): Promise<SecurityResult> {
  const services: ServiceProcess[] = [];
  let pending: Promise<void>[] = [];
  let feed: ((gid: string) => Promise<void>) | undefined;
  const idp = await startDevIdp({ onGrantRevoked: (gid) => void pending.push(feed?.(gid) ?? Promise.resolve()) });
  try {
    // Both instances believe a proxy on loopback about the client's address (the shared-address step's HAProxy).
    const env: Record<string, string> = {
      ...options.env,
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: idp.audience,
      TRUSTED_PROXIES: '127.0.0.1',
      AUTH_FAILURES_PER_MINUTE: String(FAILURE_BUDGET),
    };
    const a = await startService(env, { fresh: true });
    services.push(a);
    const shared = options.env.REDIS_URL !== undefined;
    const b = shared ? await startService(env) : a;
    if (b !== a) services.push(b);
    // The authorization server's revocation events feed RetailFlow's denylist through its admin path.
    feed = async (gid) => {
      const response = await fetch(`${a.opsUrl}/admin/identity/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ gid }),
      });
      await response.body?.cancel();
    };

    options.log('security: token attack corpus');
    const corpus = await buildTokenAttacks({ idp, serviceUrl: b.url, opsUrl: a.opsUrl, adminKey: KEYS.admin, now: () => Date.now() });
    await Promise.all(pending);
    pending = [];
    const attacks = await runTokenAttacks(b.url, corpus);
    for (const r of attacks) if (!r.asExpected) options.log(`security:   NOT as expected: ${r.name} -> ${r.status}`);

    options.log(`security: revoke-to-refusal, ${options.revocationSamples} samples${shared ? ' across two instances' : ''}`);
    const revokeToRefusalMs: number[] = [];
    const freshToken = async () =>
      (await clientCredentials(idp.issuer, { id: 'acme-backend', secret: 'acme-backend-dev-secret' }, 'orders:read', idp.audience))
        .access_token;
    for (let i = 0; i < options.revocationSamples; i++) {
      const token = await freshToken();
      const fresh = await clientFetch(`${b.url}/api/v1/orders`, {
        headers: { authorization: `Bearer ${token}` },
        dispatcher: client,
      });
      const freshBody = await fresh.text();
      if (fresh.status !== 200)
        throw new Error(`revocation sample ${i + 1}: a fresh token was answered ${fresh.status}, not 200: ${freshBody.slice(0, 300)}`);
      const { jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string };
      const started = performance.now();
      const revoked = await fetch(`${a.opsUrl}/admin/identity/revocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jti }),
      });
      await revoked.body?.cancel();
      let refusedAt: number | undefined;
      for (let tries = 0; tries < 2000 && performance.now() - started < 5000; tries++) {
        if ((await status(b.url, token)) === 401) {
          refusedAt = performance.now();
          break;
        }
      }
      revokeToRefusalMs.push(refusedAt === undefined ? Number.POSITIVE_INFINITY : refusedAt - started);
    }

    options.log('security: clients sharing an address with an attacker (behind HAProxy, and a refreshed token)');
    const sharedFigures = await sharedAddress(a, b, freshToken, FAILURE_BUDGET);
    options.log(
      `security:   attacker throttled ${sharedFigures.attackerThrottled} of ${sharedFigures.attackerTries}; its HAProxy neighbour got ${sharedFigures.neighbourStatus}; ` +
        `from a spent address: a refreshed token ${sharedFigures.refreshedTokenStatus}, a key never seen ${sharedFigures.unseenKeyStatus}`,
    );

    options.log('security: mutual TLS at the payment provider');
    const certs = await generateDevCertificates();
    const provider = await startPaymentSimulator({ tls: certs.server });
    const charge = (fetchImpl: typeof fetch, key: string) =>
      httpPaymentGateway(provider.url, fetchImpl)
        .charge(
          { amountCents: 100, currency: 'EUR', reference: key, idempotencyKey: key },
          { signal: AbortSignal.timeout(5000), deadline: undefined },
        )
        .then(
          () => 'charged',
          () => 'refused',
        );
    const outcomes = {
      withCert: await charge(mtlsFetch(certs.client), 'm1'),
      noCert: await charge(mtlsFetch({ ca: certs.client.ca }), 'm2'),
      otherCa: await charge(mtlsFetch(certs.stranger), 'm3'),
    };
    await provider.close();
    const mtlsRefused = [outcomes.noCert, outcomes.otherCa].filter((o) => o === 'refused').length;

    const misses = attacks.filter((r) => !r.name.startsWith('control') && !r.asExpected).length;
    const served = attacks.filter((r) => r.name.startsWith('control') && r.asExpected).length;
    const fiveXx = attacks.filter((r) => r.status >= 500).length;
    const worst = Math.max(...revokeToRefusalMs);
    return {
      attacks,
      revokeToRefusalMs,
      acrossInstances: shared,
      mtlsRefused,
      mtlsTried: 2,
      sharedAddress: sharedFigures,
      goals: {
        attackerBehindProxyThrottled: {
          value: sharedFigures.attackerThrottled,
          goal: sharedFigures.attackerTries - FAILURE_BUDGET,
          met: sharedFigures.attackerThrottled >= sharedFigures.attackerTries - FAILURE_BUDGET,
        },
        neighbourBehindProxyServed: {
          value: sharedFigures.neighbourStatus === 200 ? 1 : 0,
          goal: 1,
          met: sharedFigures.neighbourStatus === 200,
        },
        refreshedTokenServedFromSpentAddress: {
          value: sharedFigures.refreshedTokenStatus === 200 ? 1 : 0,
          goal: 1,
          met: sharedFigures.refreshedTokenStatus === 200,
        },
        unseenKeyRefusedFromSpentAddress: {
          value: sharedFigures.unseenKeyStatus === 429 ? 1 : 0,
          goal: 1,
          met: sharedFigures.unseenKeyStatus === 429,
        },
        attacksRefused: { value: misses, goal: 0, met: misses === 0 },
        no5xx: { value: fiveXx, goal: 0, met: fiveXx === 0 },
        validTokenServed: { value: served, goal: 1, met: served === 1 },
        revokeToRefusalP50Ms: {
          value: percentile(revokeToRefusalMs, 50),
          goal: 1000,
          met: percentile(revokeToRefusalMs, 50) <= 1000,
        },
        revokeToRefusalMaxMs: { value: worst, goal: 1000, met: worst <= 1000 },
        mtlsWithoutCertRefused: { value: mtlsRefused, goal: 2, met: mtlsRefused === 2 },
        mtlsWithCertServed: {
          value: outcomes.withCert === 'charged' ? 1 : 0,
          goal: 1,
          met: outcomes.withCert === 'charged',
        },
      },
    };
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    await idp.close();
    await client.close();
  }
}
