import { afterEach, describe, expect, it } from 'vitest';
import type { RetailFlow } from '../../src/service.js';
import { ACME, OPS, call, order, startTestService, until } from '../helpers.js';

// Found by the runbook drills: the front door asks the ingress limiter's admission signal before it authenticates,
// and refused what the signal refused without telling anyone: `ballast_load_shed_total` never counted those
// refusals, so the shed-rate panels read zero while checkouts were answered 503 and `BallastCriticalTrafficShed`
// could not fire for the refusals it was written for. The door now screens through the limiter, which counts what
// it refuses as shed.

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

const shedCount = async (opsUrl: string, priority: string): Promise<number> => {
  const text = (await call<string>(opsUrl, 'GET', '/metrics', { key: OPS })).body;
  const line = text
    .split('\n')
    .find((l) => l.startsWith('ballast_load_shed_total{') && l.includes(`priority="${priority}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

describe('a checkout refused at the front door', () => {
  it('is counted as shed, with its priority', async () => {
    // One reservation slot and one queue place, one tenant may hold them all.
    const started = await startTestService({
      inventoryConcurrency: 1,
      inventoryQueue: 1,
      tenantInventoryShare: 1,
    });
    service = started.service;
    const ops = service.opsUrl ?? service.url;
    expect((await call(service.url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    // Every store call takes 1 s of manual time: the first checkout holds the slot, the second waits in the queue.
    const chaos = await call(ops, 'POST', '/admin/chaos', {
      key: 'rf_admin_dev_key',
      body: { target: 'storage', enabled: true, latencyMs: 1_000 },
    });
    expect(chaos.status).toBe(200);
    const first = order(service.url, ACME, 'holds-the-slot');
    await until(() => service!.policies.inventoryBulkhead.inFlight === 1, 'the first reservation to run');
    const second = order(service.url, ACME, 'waits-in-the-queue');
    await until(() => service!.policies.inventoryBulkhead.queued === 1, 'the second reservation to queue');
    const before = await shedCount(ops, 'critical');
    // The queue is full: the door refuses the third before reading or authenticating it.
    const third = await order(service.url, ACME, 'refused-at-the-door');
    expect(third.status).toBe(503);
    expect(await shedCount(ops, 'critical')).toBe(before + 1);
    await call(ops, 'POST', '/admin/chaos', {
      key: 'rf_admin_dev_key',
      body: { target: 'storage', enabled: false },
    });
    started.clock.advance(2_000);
    await Promise.allSettled([first, second]);
  });
});
