import { describe, expect, it } from 'vitest';
import { actorOf, requiredScope } from '../../src/identity/principal.js';

describe('requiredScope', () => {
  it.each([
    ['GET', '/products', 'catalog:read'],
    ['GET', '/products/sku-mug', 'catalog:read'],
    ['GET', '/orders', 'orders:read'],
    ['HEAD', '/orders', 'orders:read'],
    ['GET', '/ORDERS/ord_1', 'orders:read'],
    ['POST', '/orders', 'orders:write'],
    ['DELETE', '/orders/ord_1', 'orders:write'],
    ['GET', '/audit', 'tenant:read'],
    ['GET', '/flags', 'tenant:read'],
    ['POST', '/products', undefined],
    ['PUT', '/orders/ord_1', undefined],
    ['GET', '/orders/ord_1/items', undefined],
  ])('%s %s needs %s (unknown routes need a scope nobody has)', (method, path, scope) => {
    expect(requiredScope(method, path)).toBe(scope);
  });
});

describe('actorOf', () => {
  it('names the subject and client, the key, or the admin key', () => {
    const scopes = new Set<string>();
    expect(actorOf({ tenantId: 'acme', subject: 'alice', clientId: 'web', scopes, via: 'jwt' })).toBe(
      'jwt:alice@web',
    );
    expect(actorOf({ tenantId: 'acme', subject: 'api-key:k1', keyId: 'k1', scopes, via: 'api-key' })).toBe(
      'api-key:k1',
    );
    expect(actorOf({ tenantId: undefined, subject: 'admin-key', scopes, via: 'admin-key' })).toBe(
      'admin-key',
    );
  });
});
