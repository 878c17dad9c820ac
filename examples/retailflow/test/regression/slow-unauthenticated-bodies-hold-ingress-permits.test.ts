import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, call, startTestService, until } from '../helpers.js';

// Found by an attack: a few hundred connections sending `POST /api/v1/orders` bodies one byte at a time, with no
// key, held every critical ingress permit (the permit was taken before the key was checked and the body read,
// and nothing bounded the body's arrival), and every tenant got 503 "Service overloaded" until they hung up.
// Authentication now runs before a permit is taken and before the body is read; bodies have a deadline.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

/** Opens a connection that sends the headers of a POST and one byte of its body, then nothing. */
function slowPost(
  url: string,
  headers: Record<string, string>,
): Promise<{ socket: net.Socket; answer: () => string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = net.connect(Number(port), hostname, () => {
      const lines = [
        'POST /api/v1/orders HTTP/1.1',
        `Host: ${hostname}`,
        'Content-Type: application/json',
        'Content-Length: 1000',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n{`);
      resolve({ socket, answer: () => received });
    });
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

describe('slow request bodies', () => {
  it('without a key never hold an ingress permit: they get 401 at once and other tenants are served', async () => {
    const started = await startTestService({ ingressInitialLimit: 8, ingressMinLimit: 8 });
    service = started.service;
    const attackers = await Promise.all(Array.from({ length: 20 }, () => slowPost(service!.url, {})));
    try {
      await until(
        () => attackers.every((a) => a.answer().startsWith('HTTP/1.1 401')),
        'every slow request to get its 401',
        5_000,
      ).catch(() => {});
      expect(service.policies.ingressLimiter.inFlight).toBe(0);
      const read = await call(service.url, 'GET', '/api/v1/products', { key: ACME });
      expect(read.status).toBe(200);
      expect(attackers.map((a) => a.answer().split('\r\n')[0])).toEqual(
        attackers.map(() => 'HTTP/1.1 401 Unauthorized'),
      );
    } finally {
      for (const a of attackers) a.socket.destroy();
    }
  });

  it('with a key are cut off with a 408 at the body deadline, releasing their permit', async () => {
    const started = await startTestService({ bodyTimeoutMs: 2_000 });
    service = started.service;
    const slow = await slowPost(service.url, {
      Authorization: `Bearer ${ACME}`,
      'Idempotency-Key': 'slow-1',
    });
    try {
      await until(() => service!.policies.ingressLimiter.inFlight === 1, 'the slow request to be admitted');
      started.clock.advance(1_999);
      expect(slow.answer()).toBe('');
      started.clock.advance(1);
      await until(() => slow.answer().length > 0, 'the 408');
      expect(slow.answer().split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
      await until(() => service!.policies.ingressLimiter.inFlight === 0, 'the permit to be released');
    } finally {
      slow.socket.destroy();
    }
  });
});
