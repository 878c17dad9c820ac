import { describe, expect, it } from 'vitest';
import { ACME, call, startTestService, until } from '../helpers.js';

// Found by an attack: on SIGTERM the listener closed at once, so a load balancer still sending traffic (it had not
// yet seen `/readyz` fail) got connection errors. Shutdown now turns `/readyz` 503 first, keeps serving for the
// pre-stop delay (long enough for the balancer's health checks to notice), then closes the listener and drains.

describe('shutdown', () => {
  it('answers /readyz 503 while still serving for the pre-stop delay, then closes', async () => {
    const { service, clock } = await startTestService({ preStopDelayMs: 10_000 });
    const stopped = service.shutdown();
    const ready = await call(service.url, 'GET', '/readyz');
    expect(ready.status).toBe(503);
    // Traffic the balancer still sends is served.
    expect((await call(service.url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
    clock.advance(9_999);
    expect((await call(service.url, 'GET', '/healthz')).status).toBe(200);
    clock.advance(1);
    await stopped;
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
    await until(() => service.inFlight === 0, 'nothing in flight');
  });
});
