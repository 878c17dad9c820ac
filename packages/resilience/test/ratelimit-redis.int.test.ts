import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEvent } from '@ballast/core';
import { createTenantLimiter, plans } from '../examples/rate-limiting.js';
import { gcra } from '../src/ratelimit/gcra.js';
import { RateLimiter } from '../src/ratelimit/RateLimiter.js';
import { gcraParams } from '../src/ratelimit/RateLimitRule.js';
import { RedisRateLimitStore } from '../src/ratelimit/RedisRateLimitStore.js';
import { rng } from './limit-rng.js';

const redis = testService('redis');

describe.skipIf(redis.skip)('RedisRateLimitStore against the shared Redis', () => {
  const clients: Redis[] = [];
  const client = (): Redis => {
    const c = new Redis(redis.url, { enableOfflineQueue: true, lazyConnect: false });
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('50 concurrent clients against one key admit exactly the configured number per window', async () => {
    const prefix = `ballast-test:${randomUUID()}:`;
    const clock = new ManualClock(1_700_000_000_000);
    const rule = { limit: 20, periodMs: 60_000 };
    const limiters = Array.from(
      { length: 50 },
      () =>
        new RateLimiter({
          rule,
          clock,
          storeTimeoutMs: 5_000,
          store: new RedisRateLimitStore({ client: client(), prefix, time: 'client' }),
        }),
    );
    await Promise.all(clients.map((c) => c.ping()));
    const burst = () =>
      Promise.all(limiters.flatMap((l) => [l.consume('k'), l.consume('k'), l.consume('k')]));
    const first = await burst();
    expect(first.filter((d) => d.allowed)).toHaveLength(20);
    expect(first.filter((d) => !d.allowed).every((d) => d.remaining === 0 && d.retryAfterMs === 3_000)).toBe(
      true,
    );
    clock.advance(60_000); // one full window later the whole burst is back, and no more
    const second = await burst();
    expect(second.filter((d) => d.allowed)).toHaveLength(20);
  });

  it('50 concurrent clients on the server clock admit exactly the burst', async () => {
    const prefix = `ballast-test:${randomUUID()}:`;
    const rule = { limit: 25, periodMs: 3_600_000 }; // one token per 144 s: none refills during the test
    const limiters = Array.from(
      { length: 50 },
      () =>
        new RateLimiter({
          rule,
          storeTimeoutMs: 5_000,
          store: new RedisRateLimitStore({ client: client(), prefix }),
        }),
    );
    const decisions = await Promise.all(limiters.map((l) => l.consume('tenant')));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
    const remaining = decisions.filter((d) => d.allowed).map((d) => d.remaining);
    expect(new Set(remaining).size).toBe(25); // every admitted caller saw a distinct remaining count
  });

  it('two limiter instances (two servers, two connections) share one budget', async () => {
    const prefix = `ballast-test:${randomUUID()}:`;
    const clock = new ManualClock(1_700_000_000_000);
    const rule = { limit: 10, periodMs: 10_000 };
    const make = () =>
      new RateLimiter({
        rule,
        clock,
        store: new RedisRateLimitStore({ client: client(), prefix, time: 'client' }),
      });
    const serverA = make();
    const serverB = make();
    for (let i = 0; i < 6; i++) expect((await serverA.consume('acme')).allowed).toBe(true);
    const b = [];
    for (let i = 0; i < 5; i++) b.push(await serverB.consume('acme'));
    expect(b.map((d) => d.allowed)).toEqual([true, true, true, true, false]);
    expect(b[3]).toMatchObject({ remaining: 0, resetAfterMs: 10_000 });
    expect((await serverA.consume('acme')).allowed).toBe(false);
    clock.advance(1_000);
    expect((await serverA.consume('acme')).allowed).toBe(true);
    expect((await serverB.consume('acme')).allowed).toBe(false);
  });

  it('examples/rate-limiting.ts shares one budget per tenant across instances through Redis', async () => {
    const tenant = `tenant-${randomUUID()}`;
    const [a, b] = [createTenantLimiter(client()), createTenantLimiter(client())];
    const decisions = await Promise.all(
      Array.from({ length: plans.free.limit + 10 }, (_, i) => (i % 2 ? a : b).consume(tenant)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(plans.free.limit);
  });

  it('decisions asked for in one tick share script calls and are decided in order, per key and rule', async () => {
    const prefix = `ballast-test:${randomUUID()}:`;
    const store = new RedisRateLimitStore({ client: client(), prefix, time: 'client', maxBatch: 4 });
    const slow = gcraParams({ limit: 3, periodMs: 3_000 });
    const fast = gcraParams({ limit: 5, periodMs: 1_000, burst: 2 });
    const now = 1_700_000_000_000;
    const calls = Array.from({ length: 11 }, (_, i) => ({
      key: i % 2 ? 'a' : 'b',
      params: i % 3 ? slow : fast,
    }));
    const got = await Promise.all(calls.map((c) => store.consume(c.key, c.params, 1, now)));
    const tats = new Map<string, number>();
    const want = calls.map((c) => {
      const d = gcra(tats.get(c.key), now, c.params, 1);
      if (d.allowed) tats.set(c.key, d.tat);
      return d.allowed;
    });
    expect(got.map((d) => d.allowed)).toEqual(want);
  });

  it('the Lua script decides exactly as the TypeScript GCRA on random sequences', async () => {
    const store = new RedisRateLimitStore({
      client: client(),
      prefix: `ballast-test:${randomUUID()}:`,
      time: 'client',
    });
    const random = rng(42);
    for (let run = 0; run < 4; run++) {
      const limit = 1 + Math.floor(random() * 20);
      const params = gcraParams({
        limit,
        periodMs: 100 + Math.floor(random() * 5_000),
        burst: 1 + Math.floor(random() * 10),
      });
      let now = 1_700_000_000_000 + Math.floor(random() * 1e6);
      let tat: number | undefined;
      for (let i = 0; i < 60; i++) {
        now += Math.floor(random() * random() * params.emissionMs * 3);
        const cost = random() < 0.8 ? 1 : Math.floor(random() * (params.burst + 1));
        const want = gcra(tat, now, params, cost);
        if (want.allowed) tat = want.tat;
        const got = await store.consume(`seq-${run}`, params, cost, now);
        expect(got.allowed, `run ${run} step ${i}`).toBe(want.allowed);
        expect(got.remaining).toBe(want.remaining);
        expect(got.retryAfterMs).toBeCloseTo(want.retryAfterMs, 2);
        expect(got.resetAfterMs).toBeCloseTo(want.resetAfterMs, 2);
      }
    }
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

describe.skipIf(redis.skip)('RedisRateLimitStore when its own Redis goes away', () => {
  let child: ChildProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`redis-server exited early (${code}): ${out}`)));
      child.stdout!.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Ready to accept connections')) resolve();
      });
    });
  });

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('falls back to EVAL on NOSCRIPT, then fails open or closed with a store-error event once Redis is stopped', async () => {
    const url = `redis://127.0.0.1:${port}`;
    const fast = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
    const queued = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    const admin = new Redis(url, { lazyConnect: true });
    for (const c of [fast, queued, admin]) c.on('error', () => {}); // reconnect noise once Redis is gone
    await Promise.all([fast.connect(), queued.connect(), admin.connect()]);
    const clock = new ManualClock(1_700_000_000_000);
    const rule = { limit: 1, periodMs: 60_000 };
    const prefix = `ballast-test:${randomUUID()}:`;
    const open = new RateLimiter({
      name: 'open',
      rule,
      clock,
      onStoreError: 'open',
      store: new RedisRateLimitStore({ client: fast, prefix, time: 'client' }),
    });
    const closed = new RateLimiter({
      name: 'closed',
      rule,
      clock,
      onStoreError: 'closed',
      storeTimeoutMs: 100,
      store: new RedisRateLimitStore({ client: queued, prefix, time: 'client' }),
    });
    const events: PolicyEvent[] = [];
    open.onEvent((e) => events.push(e));
    closed.onEvent((e) => events.push(e));

    // A fresh server has no scripts: the first EVALSHA gets NOSCRIPT and the store falls back to EVAL.
    expect(await admin.script('EXISTS', RedisRateLimitStore.scriptSha)).toEqual([0]);
    expect((await open.consume('k')).allowed).toBe(true);
    expect(await admin.script('EXISTS', RedisRateLimitStore.scriptSha)).toEqual([1]);
    expect((await closed.consume('k')).allowed).toBe(false); // shared budget, Redis up
    expect(events.some((e) => e.type === 'store-error')).toBe(false);

    admin.disconnect();
    child.kill('SIGKILL');
    await once(child, 'exit');
    const disconnected = (c: Redis) =>
      c.status === 'ready' ? new Promise<void>((resolve) => c.once('close', () => resolve())) : undefined;
    await Promise.all([disconnected(fast), disconnected(queued)]);

    // Fail open: the request is allowed although the key's budget is spent.
    expect(await open.consume('k')).toMatchObject({ allowed: true, remaining: 1 });
    // Fail closed: the command sits in ioredis's offline queue; the limiter's own timeout answers.
    const pending = closed.consume('other-key');
    await clock.advanceAsync(100);
    expect(await pending).toMatchObject({ allowed: false, retryAfterMs: 60_000 });

    const storeErrors = events.filter((e) => e.type === 'store-error');
    expect(storeErrors).toHaveLength(2);
    expect(storeErrors[0]).toMatchObject({ policy: 'open', failOpen: true });
    expect(storeErrors[1]).toMatchObject({ policy: 'closed', failOpen: false });
    expect(String((storeErrors[1] as { error: Error }).error.message)).toBe(
      'rate-limit store did not answer within 100 ms',
    );
    fast.disconnect();
    queued.disconnect();
  });
});
