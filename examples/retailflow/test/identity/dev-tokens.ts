import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll } from 'vitest';
import { ManualClock } from '@ballast/core';
import type { RetailFlowConfig } from '../../src/config.js';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';
import { clientCredentials } from '../../src/identity/oauth-client.js';
import type { RetailFlow } from '../../src/service.js';
import { startTestService } from '../helpers.js';

/** The tokens of one test suite's development authorization server. */
export interface DevTokens {
  /** The server (started before the suite's tests, closed after them). */
  readonly idp: DevIdp;
  /** A fresh client-credentials token of `acme-backend` (scope `orders:read`). */
  acmeToken(): Promise<string>;
  /**
   * `count` tokens naming `subject` at the server's issuer and audience, signed with a key of the attacker's own
   * (header `kid` as given: the server's, to reach a signature check).
   */
  forged(subject: string, options?: { readonly kid?: string; readonly count?: number }): Promise<string[]>;
  /** A test RetailFlow trusting the server (on a manual clock at the real time, as the tokens are), with `config`. */
  service(config?: Partial<RetailFlowConfig>): Promise<{ service: RetailFlow; clock: ManualClock }>;
}

/**
 * Starts a development authorization server (oidc-provider) for the tests of the calling `describe`.
 *
 * @example
 * ```ts
 * const tokens = useDevTokens();
 * it('serves a token', async () => expect(await tokens.acmeToken()).toMatch(/\./));
 * ```
 */
export function useDevTokens(): DevTokens {
  let idp: DevIdp | undefined;
  beforeAll(async () => {
    idp = await startDevIdp({ accessTokenTtlSec: 300 });
  });
  afterAll(async () => {
    await idp?.close();
  });
  const server = (): DevIdp => {
    if (idp === undefined) throw new Error('useDevTokens: the server starts in beforeAll');
    return idp;
  };
  return {
    get idp() {
      return server();
    },
    async acmeToken() {
      const { issuer, audience } = server();
      const grant = await clientCredentials(
        issuer,
        { id: 'acme-backend', secret: 'acme-backend-dev-secret' },
        'orders:read',
        audience,
      );
      return grant.access_token;
    },
    async service(config = {}) {
      const { issuer, audience } = server();
      const clock = new ManualClock(Date.now());
      const { service } = await startTestService(
        { oidcIssuer: issuer, oidcAudience: audience, ...config },
        { clock },
      );
      return { service, clock };
    },
    async forged(subject, { kid = 'attacker', count = 1 } = {}) {
      const { issuer, audience } = server();
      const { privateKey } = await generateKeyPair('RS256');
      return Promise.all(
        Array.from({ length: count }, () =>
          new SignJWT({ scope: 'orders:read', client_id: subject })
            .setProtectedHeader({ alg: 'RS256', kid })
            .setIssuer(issuer)
            .setSubject(subject)
            .setAudience(audience)
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(privateKey),
        ),
      );
    },
  };
}
