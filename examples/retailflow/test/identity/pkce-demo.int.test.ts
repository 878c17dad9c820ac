import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevIdp, type DevIdp } from '../../src/identity/dev-idp.js';

const run = promisify(execFile);
const script = path.join(import.meta.dirname, '../../src/identity/pkce-demo.ts');

// The demo script people run: the whole authorization code + PKCE flow against the development server, headless.
describe('pkce-demo script', () => {
  let idp: DevIdp;
  beforeAll(async () => {
    idp = await startDevIdp();
  });
  afterAll(async () => {
    await idp?.close();
  });

  it('signs in with PKCE, rotates the refresh token and sees a replay revoke the family', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--conditions=@ballast/source', '--import', 'tsx', script],
      { env: { ...process.env, OIDC_ISSUER: idp.issuer, OIDC_AUDIENCE: idp.audience }, timeout: 60_000 },
    );
    expect(stdout).toMatch(/4\. redirected back with the code; state matches/);
    expect(stdout).toMatch(
      /5\. access token for alice of tenant acme: scope "catalog:read orders:read orders:write"/,
    );
    expect(stdout).toMatch(/7\. refresh: a new refresh token \(rotated: true\)/);
    expect(stdout).toMatch(/8\. replaying the spent refresh token: refused \(invalid_grant/);
    expect(stdout).toMatch(/9\. the newest refresh token after the replay: revoked with its family/);
  });

  it('refuses an authorization request without a PKCE code challenge', async () => {
    const url = new URL(`${idp.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: idp.publicClientId,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:8765/callback',
      scope: 'openid',
      resource: idp.audience,
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    await response.body?.cancel();
    const location = new URL(response.headers.get('location') ?? '', idp.issuer);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/requires PKCE/);
  });
});
