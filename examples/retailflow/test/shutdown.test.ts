import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { openRepository } from '../src/data/index.js';
import { ACME, call, order, startTestService, until } from './helpers.js';

describe('graceful shutdown', () => {
  it('stops accepting, drains the checkout in flight, stops the relay after its batch, and closes', async () => {
    // The provider answers only when its own clock moves, so a checkout is reliably in flight during shutdown.
    const providerClock = new ManualClock(0);
    const lines: string[] = [];
    const { service, clock } = await startTestService(
      {},
      { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } }, log: (line) => lines.push(line) },
    );
    const base = service.url;
    const inFlight = order(base, ACME, 'shutdown-1');
    await until(() => service.provider!.attempts === 1, 'the charge to reach the provider');
    expect(service.inFlight).toBe(1);

    const stopped = service.shutdown();
    expect(service.readiness.draining).toBe(true);
    expect((await service.readiness.report()).status).toBe('not-ready');
    // New connections are refused while the request in flight still runs.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();

    providerClock.advance(1_000);
    const answer = await inFlight;
    expect(answer.status).toBe(201);
    expect(answer.body.status).toBe('confirmed');
    await stopped;
    expect(service.events.relay.running).toBe(false);
    expect(service.inFlight).toBe(0);
    expect(lines).toContain('retailflow: stopped');
    void clock;
  });

  // Regression: shutdown used to wait for responses only, and closed the store under a checkout whose client had
  // gone away, leaving the order pending.
  it('lets a checkout whose client went away record its payment before the store closes', async () => {
    const providerClock = new ManualClock(0);
    const dir = mkdtempSync(join(tmpdir(), 'retailflow-'));
    const sqlitePath = join(dir, 'shutdown.db');
    try {
      const { service } = await startTestService(
        { sqlitePath },
        { provider: { clock: providerClock, knobs: { latencyMs: 1_000 } } },
      );
      const client = new AbortController();
      const placed = fetch(`${service.url}/api/v1/orders`, {
        method: 'POST',
        signal: client.signal,
        headers: {
          authorization: `Bearer ${ACME}`,
          'content-type': 'application/json',
          'idempotency-key': 'gone-1',
        },
        body: JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 }] }),
      });
      await until(() => service.provider!.attempts === 1, 'the charge to reach the provider');
      client.abort();
      await expect(placed).rejects.toThrow();
      await until(() => service.inFlight === 0, 'the abandoned request to close');

      const stopped = service.shutdown();
      providerClock.advance(1_000);
      await stopped;

      const repo = await openRepository({ sqlitePath });
      try {
        const order = await repo.findOrderByIdempotencyKey('acme', 'gone-1');
        expect(order?.status).toBe('confirmed');
      } finally {
        await repo.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is safe to call twice', async () => {
    const { service } = await startTestService();
    await Promise.all([service.shutdown(), service.shutdown()]);
    await expect(call(service.url, 'GET', '/healthz')).rejects.toThrow();
  });
});
