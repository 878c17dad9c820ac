import { decodeJwt } from 'jose';
import { authorizationCodeWithPkce, refresh } from './oauth-client.js';

// `npm run pkce-demo -w @ballast/retailflow`: the authorization code flow with PKCE against the development
// authorization server (OIDC_ISSUER, default http://127.0.0.1:4000), headless, then a refresh-token rotation and a
// replay of the spent refresh token (refused; the family is revoked). With RETAILFLOW_URL, the access token is used
// on the API too.
const issuer = process.env.OIDC_ISSUER ?? 'http://127.0.0.1:4000';
const audience = process.env.OIDC_AUDIENCE ?? 'https://retailflow.local/api';
const tokens = await authorizationCodeWithPkce({
  issuer,
  clientId: 'retailflow-web',
  redirectUri: 'http://127.0.0.1:8765/callback',
  username: process.env.DEMO_USER ?? 'alice',
  password: process.env.DEMO_PASSWORD ?? 'alice-dev-password',
  resource: audience,
  log: (line) => console.log(line),
});
const claims = decodeJwt(tokens.access_token);
console.log(
  `5. access token for ${String(claims.sub)} of tenant ${String(claims.tenant_id)}: scope "${String(claims.scope)}", expires in ${tokens.expires_in} s`,
);
const api = process.env.RETAILFLOW_URL;
if (api) {
  const response = await fetch(`${api}/api/v1/orders`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  console.log(`6. GET ${api}/api/v1/orders with it: ${response.status}`);
  await response.body?.cancel();
}
const rotated = await refresh(issuer, 'retailflow-web', tokens.refresh_token!);
console.log(
  `7. refresh: a new refresh token (rotated: ${String(rotated.refresh_token !== tokens.refresh_token)})`,
);
const replay = await refresh(issuer, 'retailflow-web', tokens.refresh_token!).then(
  () => 'ACCEPTED (bad)',
  (error: unknown) => `refused (${error instanceof Error ? error.message : String(error)})`,
);
console.log(`8. replaying the spent refresh token: ${replay}`);
const family = await refresh(issuer, 'retailflow-web', rotated.refresh_token!).then(
  () => 'still valid (bad)',
  () => 'revoked with its family',
);
console.log(`9. the newest refresh token after the replay: ${family}`);
