import { buildTokenAttacks, runTokenAttacks, type TokenAttackResult } from '../../examples/retailflow/src/identity/attack-corpus.js';
import { startDevIdp } from '../../examples/retailflow/src/identity/dev-idp.js';
import { generateDevCertificates, mtlsFetch } from '../../examples/retailflow/src/identity/mtls.js';
import { clientCredentials } from '../../examples/retailflow/src/identity/oauth-client.js';
import { httpPaymentGateway } from '../../examples/retailflow/src/payments/client.js';
import { startPaymentSimulator } from '../../examples/retailflow/src/payments/simulator.js';
import { Agent, fetch as clientFetch } from 'undici';
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
  readonly goals: Record<string, { readonly value: number; readonly goal: number; readonly met: boolean }>;
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};

// The legitimate client of the revocation samples calls from its own loopback address: the attack corpus's
// failures are charged to 127.0.0.1's failed-authentication budget (30 a minute), and a client sharing that address
// would find its fresh tokens refused with 429 once the attacks spent it, which is the budget working, not a
// revocation figure.
const client = new Agent({ localAddress: '127.0.0.2' });

async function status(url: string, token: string): Promise<number> {
  const response = await clientFetch(`${url}/api/v1/orders`, {
    headers: { authorization: `Bearer ${token}` },
    dispatcher: client,
  });
  await response.body?.cancel();
  return response.status;
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
    const env: Record<string, string> = { ...options.env, OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience };
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
    for (let i = 0; i < options.revocationSamples; i++) {
      const token = (
        await clientCredentials(
          idp.issuer,
          { id: 'acme-backend', secret: 'acme-backend-dev-secret' },
          'orders:read',
          idp.audience,
        )
      ).access_token;
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
      goals: {
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
