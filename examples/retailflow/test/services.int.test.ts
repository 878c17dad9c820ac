import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import { DEFAULT_CONFIG, type RetailFlowConfig } from '../src/config.js';
import { startRetailFlow, type RetailFlow } from '../src/service.js';
import {
  ACME,
  GLOBEX,
  OPS,
  T0,
  call,
  drainOutbox,
  order,
  poisonEvent,
  type ApiOrder,
  type ApiPage,
} from './helpers.js';

// RetailFlow end to end on real PostgreSQL (DATABASE_URL), Redis (REDIS_URL) and RabbitMQ (AMQP_URL). Each test
// runs in its own namespace: a PostgreSQL schema, Redis key prefix and RabbitMQ exchange/queue names, removed after.
const postgres = testService('postgres');
const redis = testService('redis');
const rabbitmq = testService('rabbitmq');
const run = `rfint_${randomBytes(4).toString('hex')}`;
let n = 0;

interface Started {
  readonly services: RetailFlow[];
  readonly clock: ManualClock;
  readonly namespace: string;
}
const started: Started[] = [];

/** One or more RetailFlow instances sharing one namespace (so they share the store, limits and queues). */
async function startInstances(count: number, config: Partial<RetailFlowConfig> = {}): Promise<Started> {
  const namespace = `${run}_${n++}`;
  const clock = new ManualClock(T0);
  const services: RetailFlow[] = [];
  const entry = { services, clock, namespace };
  started.push(entry);
  for (let i = 0; i < count; i++) {
    services.push(
      await startRetailFlow(
        {
          ...DEFAULT_CONFIG,
          port: 0,
          paymentPort: 0,
          opsPort: 0,
          preStopDelayMs: 0,
          databaseUrl: postgres.url,
          redisUrl: redis.url,
          amqpUrl: rabbitmq.url,
          ...config,
        },
        { clock, random: () => 0.5, log: () => {}, namespace, databaseSchema: namespace },
      ),
    );
  }
  return entry;
}

describe.skipIf(postgres.skip || redis.skip || rabbitmq.skip)(
  'RetailFlow on PostgreSQL, Redis and RabbitMQ',
  () => {
    let admin: pg.Client;
    let redisClient: Redis;
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      redisClient = new Redis(redis.url);
    });
    afterEach(async () => {
      for (const { services } of started) for (const s of services) await s.shutdown();
    });
    afterAll(async () => {
      const connection = await amqp.connect(rabbitmq.url);
      const channel = await connection.createChannel();
      for (const { namespace } of started.splice(0)) {
        await admin.query(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
        const keys = await redisClient.keys(`${namespace}:*`);
        if (keys.length > 0) await redisClient.del(...keys);
        for (const q of [`${namespace}.fulfilment`, `${namespace}.fulfilment.dlq`])
          await channel.deleteQueue(q);
        for (const x of [`${namespace}.events`, `${namespace}.events.dlx`]) await channel.deleteExchange(x);
      }
      await connection.close();
      await admin.end();
      redisClient.disconnect();
    });

    it('creates one order for concurrent duplicates sent to two instances', async () => {
      const { services } = await startInstances(2);
      const [a, b] = services as [RetailFlow, RetailFlow];
      // No clock moves while requests run against real services: the request deadline is on the manual clock.
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => order((i % 2 === 0 ? a : b).url, ACME, 'int-dup')),
      );
      const statuses = answers.map((x) => x.status);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      expect(statuses).toContain(201);
      expect(new Set(answers.map((x) => x.body.id ?? x.body.orderId)).size).toBe(1);
      expect(a.provider!.charges + b.provider!.charges).toBe(1);
      const listed = await call<ApiPage<ApiOrder>>(b.url, 'GET', '/api/v1/orders', { key: ACME });
      expect(listed.body.items).toHaveLength(1);
      // A replay after the fact answers the same order; another body with the same key is a 422.
      const replay = await order(a.url, ACME, 'int-dup');
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect((await order(b.url, ACME, 'int-dup', [{ productId: 'sku-kettle', quantity: 1 }])).status).toBe(
        422,
      );
    });

    it("keeps tenants apart: another tenant's order is a 404", async () => {
      const { services } = await startInstances(1);
      const [svc] = services as [RetailFlow];
      const mine = await order(svc.url, ACME, 'int-iso');
      expect(mine.status).toBe(201);
      expect((await call(svc.url, 'GET', `/api/v1/orders/${mine.body.id}`, { key: GLOBEX })).status).toBe(
        404,
      );
      expect((await call(svc.url, 'DELETE', `/api/v1/orders/${mine.body.id}`, { key: GLOBEX })).status).toBe(
        404,
      );
    });

    it('shares per-plan rate limits across instances through Redis', async () => {
      const { services } = await startInstances(2, { freeRequestsPerMinute: 10, proRequestsPerMinute: 100 });
      const [a, b] = services as [RetailFlow, RetailFlow];
      let allowed = 0;
      let limited = 0;
      for (let i = 0; i < 30; i++) {
        const answer = await call((i % 2 === 0 ? a : b).url, 'GET', '/api/v1/flags', { key: GLOBEX });
        if (answer.status === 429) limited++;
        else allowed++;
      }
      expect(allowed).toBe(10);
      expect(limited).toBe(20);
      expect((await call(a.url, 'GET', '/api/v1/flags', { key: ACME })).status).toBe(200);
    });

    it('delivers every event through RabbitMQ after the connection comes back, and fulfils each order once', async () => {
      // RabbitMQ is shared, so the outage is a TCP proxy that drops and refuses connections.
      const target = new URL(rabbitmq.url);
      const sockets = new Set<net.Socket>();
      let open = true;
      const proxy = net.createServer((client) => {
        if (!open) return client.destroy();
        const upstream = net.connect(Number(target.port || 5672), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const port = (proxy.address() as net.AddressInfo).port;
      const proxied = `${target.protocol}//${target.username}:${target.password}@127.0.0.1:${port}${target.pathname}`;
      try {
        const { services, clock } = await startInstances(1, { amqpUrl: proxied });
        const [svc] = services as [RetailFlow];
        open = false;
        for (const s of sockets) s.destroy();
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const placed = await order(svc.url, ACME, `int-outage-${i}`);
          expect(placed.status).toBe(201);
          ids.push(placed.body.id);
        }
        await clock.advanceAsync(1_000);
        expect((await svc.repo.outboxStats()).depth).toBeGreaterThan(0);
        // The broker is reported but does not take the instance out of the load balancer: orders keep flowing.
        const degraded = await call<{ status: string }>(svc.url, 'GET', '/readyz');
        expect([degraded.status, degraded.body.status]).toEqual([200, 'degraded']);

        open = true;
        await drainOutbox(svc, clock);
        for (let i = 0; i < 400 && (await svc.repo.countShipments('acme')) < 4; i++)
          await clock.advanceAsync(250);
        expect(await svc.repo.countShipments('acme')).toBe(4);
        for (const id of ids) {
          const o = await call<ApiOrder>(svc.url, 'GET', `/api/v1/orders/${id}`, { key: ACME });
          expect(o.body.status).toBe('fulfilled');
        }
        expect((await call(svc.url, 'GET', '/readyz')).status).toBe(200);
      } finally {
        open = false;
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => proxy.close(() => resolve()));
      }
    });

    it('dead-letters a poison message in RabbitMQ', async () => {
      const { services, clock } = await startInstances(1);
      const [svc] = services as [RetailFlow];
      await svc.events.broker.publish(poisonEvent(`poison-${run}`, clock.now()));
      const queue = svc.events.fulfilment.queue;
      for (let i = 0; i < 400 && (await svc.events.broker.deadLetterDepth(queue)) === 0; i++) {
        await clock.advanceAsync(10);
      }
      expect(await svc.events.broker.deadLetterDepth(queue)).toBe(1);
      const metrics = await call<string>(svc.opsUrl, 'GET', '/metrics', { key: OPS });
      expect(metrics.body).toContain(`retailflow_dlq_depth{service="retailflow",queue="${queue}"} 1`);
      expect(metrics.body).toMatch(/ballast_pg_pool_connections\{[^}]*state="total"[^}]*\} [1-9]/); // USE of the pool
      const [dead] = await svc.events.broker.takeDeadLetters(queue);
      expect(dead?.message?.id).toBe(`poison-${run}`);
    });

    // Regression from the proof's fuzzer: PostgreSQL refuses a NUL byte in text, which surfaced as a 500.
    it('answers 404, not 500, for an id no row can have (a NUL byte)', async () => {
      const [svc] = (await startInstances(1)).services;
      for (const path of [
        '/api/v1/orders/%00abc',
        '/api/v1/products/%00abc',
        `/api/v1/orders/${'x'.repeat(300)}`,
      ]) {
        const res = await call(svc!.url, 'GET', path, { key: ACME });
        expect(res.status, path).toBe(404);
      }
    });
  },
);
