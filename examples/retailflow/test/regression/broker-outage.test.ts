import { afterEach, describe, expect, it } from 'vitest';
import type { InMemoryBroker } from '../../src/events/index.js';
import type { RetailFlow } from '../../src/service.js';
import { ACME, OPS, call, drainOutbox, order, settle, startTestService } from '../helpers.js';

// Found by an on-call drill with RabbitMQ stopped for 60 s: checkouts kept answering 201 (the events wait in the
// outbox), yet /readyz answered 503, so a load balancer would have pulled every instance; and nothing measured the
// age of the oldest waiting event, so the outage was invisible until the backlog had drained.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

function gauge(metrics: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics);
  if (!match?.[1]) throw new Error(`${name} is not exported`);
  return Number(match[1]);
}

describe('a broker outage', () => {
  it('shows the age of the oldest unpublished event growing while it lasts, and keeps /readyz at 200', async () => {
    const started = await startTestService();
    service = started.service;
    const { clock } = started;
    const svc = started.service;
    const broker = svc.events.broker as InMemoryBroker;
    const scrape = async () => (await call<string>(svc.opsUrl, 'GET', '/metrics', { key: OPS })).body;

    expect(gauge(await scrape(), 'retailflow_outbox_oldest_age_seconds')).toBe(0);

    broker.disconnect(new Error('broker down for the test'));
    const placed = await settle(clock, order(svc.url, ACME, 'outage-1'));
    expect(placed.status).toBe(201);
    await clock.advanceAsync(20_000);
    const after20 = gauge(await scrape(), 'retailflow_outbox_oldest_age_seconds');
    expect(after20).toBeGreaterThanOrEqual(20);
    await clock.advanceAsync(40_000);
    const after60 = gauge(await scrape(), 'retailflow_outbox_oldest_age_seconds');
    expect(after60).toBeGreaterThanOrEqual(60);
    expect(after60 - after20).toBeCloseTo(40, 0);

    // The broker is reported, but it is not a reason to take the instance out of the load balancer.
    const ready = await call<{ status: string; checks: Record<string, { ok: boolean; detail?: string }> }>(
      svc.url,
      'GET',
      '/readyz',
    );
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.checks.broker?.ok).toBe(false);
    expect(ready.body.checks.storage?.ok).toBe(true);

    broker.reconnect();
    await drainOutbox(svc, clock);
    expect(gauge(await scrape(), 'retailflow_outbox_oldest_age_seconds')).toBe(0);
    const back = await call<{ status: string }>(svc.url, 'GET', '/readyz');
    expect(back.status).toBe(200);
    expect(back.body.status).toBe('ready');
  });
});
