import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
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

  it('is safe to call twice', async () => {
    const { service } = await startTestService();
    await Promise.all([service.shutdown(), service.shutdown()]);
    await expect(call(service.url, 'GET', '/healthz')).rejects.toThrow();
  });
});
