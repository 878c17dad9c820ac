import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { testService } from '../src/vitest.js';

// One round trip per service proves the harness: the probe found it, and a real client talks to it.

const redis = testService('redis');
describe.skipIf(redis.skip)('Redis round trip', () => {
  it('writes a key and reads it back', async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    try {
      const key = `ballast:test:${randomUUID()}`;
      await client.set(key, 'round-trip', 'PX', 10_000);
      expect(await client.get(key)).toBe('round-trip');
      expect(await client.del(key)).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});

const postgres = testService('postgres');
describe.skipIf(postgres.skip)('PostgreSQL round trip', () => {
  it('inserts a row in a temporary table and selects it', async () => {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      await client.query('CREATE TEMP TABLE ballast_round_trip (id text PRIMARY KEY, n int NOT NULL)');
      await client.query('INSERT INTO ballast_round_trip (id, n) VALUES ($1, $2)', ['a', 42]);
      const { rows } = await client.query<{ n: number }>('SELECT n FROM ballast_round_trip WHERE id = $1', [
        'a',
      ]);
      expect(rows).toEqual([{ n: 42 }]);
    } finally {
      await client.end();
    }
  });
});

const rabbitmq = testService('rabbitmq');
describe.skipIf(rabbitmq.skip)('RabbitMQ round trip', () => {
  it('publishes with a confirm and consumes the same message', async () => {
    const connection = await amqp.connect(rabbitmq.url);
    try {
      const channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      const body = randomUUID();
      await new Promise<void>((resolve, reject) =>
        channel.sendToQueue(queue, Buffer.from(body), { persistent: false }, (err) =>
          err ? reject(err as Error) : resolve(),
        ),
      );
      const message = await channel.get(queue, { noAck: true });
      expect(message && message.content.toString()).toBe(body);
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});
