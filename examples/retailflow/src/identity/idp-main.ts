import { Redis } from 'ioredis';
import { reportError, systemClock } from '@ballast/core';
import { startDevIdp } from './dev-idp.js';
import { RedisRevocationList } from './revocation.js';

// `npm run idp -w @ballast/retailflow`: the development authorization server on loopback (IDP_PORT, default 4000).
// With REDIS_URL, the grants it revokes (a replayed refresh token, a revoked refresh token) go to RetailFlow's shared
// denylist, so their access tokens are refused at once. Development only: its clients and passwords are public.
if (process.env.NODE_ENV === 'production') {
  console.error('retailflow idp: the development authorization server never runs with NODE_ENV=production');
  process.exit(2);
}
const port = Number(process.env.IDP_PORT ?? 4000);
const redisUrl = process.env.REDIS_URL;
const redis = redisUrl ? new Redis(redisUrl) : undefined;
redis?.on('error', (error: unknown) => reportError(error, 'retailflow idp: Redis'));
const denylist = redis
  ? new RedisRevocationList(redis, process.env.REDIS_PREFIX ?? 'retailflow', systemClock)
  : undefined;
const ttlSec = 300;
const idp = await startDevIdp({
  port,
  accessTokenTtlSec: ttlSec,
  onGrantRevoked: (gid) => {
    denylist
      ?.revoke({ kind: 'gid', id: gid, until: systemClock.now() + ttlSec * 1000 })
      .catch((error: unknown) => reportError(error, 'retailflow idp: publishing a revocation'));
  },
});
console.log(`development authorization server on ${idp.issuer}`);
console.log(`  RetailFlow: OIDC_ISSUER=${idp.issuer} OIDC_AUDIENCE=${idp.audience} npm start`);
console.log(
  `  a machine token: curl -s -u acme-backend:acme-backend-dev-secret -d grant_type=client_credentials ` +
    `-d scope='orders:read orders:write' -d resource=${idp.audience} ${idp.issuer}/token`,
);
console.log(`  a person's tokens (authorization code + PKCE): npm run pkce-demo -w @ballast/retailflow`);
const stop = () => {
  void idp.close().finally(() => {
    redis?.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
