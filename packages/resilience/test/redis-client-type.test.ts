import type { Cluster, Redis } from 'ioredis';
import { describe, expectTypeOf, it } from 'vitest';
import type { RedisRateLimitStoreOptions, RedisScriptClient } from '../src/index.js';

// The store declares the ioredis surface it uses instead of importing ioredis's types, so its declaration files
// compile without ioredis installed. This pins that both ioredis 5 clients still fit it (checked by `tsc`).
describe('RedisScriptClient', () => {
  it('accepts an ioredis Redis and an ioredis Cluster', () => {
    expectTypeOf<Redis>().toExtend<RedisScriptClient>();
    expectTypeOf<Cluster>().toExtend<RedisScriptClient>();
    expectTypeOf<Redis>().toExtend<RedisRateLimitStoreOptions['client']>();
  });

  it('refuses what is not a script client', () => {
    expectTypeOf<{ get(key: string): Promise<string> }>().not.toExtend<RedisScriptClient>();
  });
});
