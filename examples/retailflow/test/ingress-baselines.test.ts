import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RetailFlow } from '../src/service.js';
import { ACME, startTestService, type ApiProduct } from './helpers.js';

// The proof compares Ballast's shedding with no shedding and with toobusy-js on the same service; these modes
// and the seeded stock are configuration, so they are checked here like any other setting.

describe('LOAD_SHEDDING and SEED_STOCK', () => {
  it('default to Ballast shedding and the catalog stock, and reject unknown modes by name', () => {
    const config = loadConfig({});
    expect(config.loadShedding).toBe('ballast');
    expect(config.seedStock).toBeUndefined();
    expect(config.eventLoopShedding).toBe(false);
    expect(config.eventLoopWarmupRequests).toBe(1000);
    expect(loadConfig({ EVENT_LOOP_SHEDDING: 'true' }).eventLoopShedding).toBe(true);
    expect(loadConfig({ EVENT_LOOP_WARMUP_REQUESTS: '0' }).eventLoopWarmupRequests).toBe(0);
    expect(() => loadConfig({ EVENT_LOOP_WARMUP_REQUESTS: '-5' })).toThrow('EVENT_LOOP_WARMUP_REQUESTS');
    expect(config.eventLoopMinCpu).toBe(0.5);
    expect(loadConfig({ EVENT_LOOP_MIN_CPU: '0' }).eventLoopMinCpu).toBe(0);
    expect(() => loadConfig({ EVENT_LOOP_MIN_CPU: '1.5' })).toThrow('EVENT_LOOP_MIN_CPU');
    expect(loadConfig({}).eventLoopTargetUtilization).toBe(0.99);
    expect(loadConfig({ EVENT_LOOP_TARGET_UTILIZATION: '0.8' }).eventLoopTargetUtilization).toBe(0.8);
    for (const bad of ['0', '1.2', 'busy']) {
      expect(() => loadConfig({ EVENT_LOOP_TARGET_UTILIZATION: bad })).toThrow(
        'EVENT_LOOP_TARGET_UTILIZATION',
      );
    }
    expect(loadConfig({ LOAD_SHEDDING: 'toobusy', SEED_STOCK: '1000000' })).toMatchObject({
      loadShedding: 'toobusy',
      seedStock: 1_000_000,
    });
    expect(() => loadConfig({ LOAD_SHEDDING: 'random' })).toThrow(
      "Expected `LOAD_SHEDDING` to be one of 'ballast', 'none', 'toobusy', got `\"random\"` (string)",
    );
    expect(() => loadConfig({ SEED_STOCK: '-1' })).toThrow('SEED_STOCK');
  });

  let service: RetailFlow | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  it.each(['none', 'toobusy'] as const)(
    'serves the API with %s at ingress and seeds the configured stock',
    async (mode) => {
      ({ service } = await startTestService({ loadShedding: mode, seedStock: 12345 }));
      const res = await fetch(`${service.url}/api/v1/products/sku-mug`, {
        headers: { authorization: `Bearer ${ACME}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as ApiProduct).stock).toBe(12345);
    },
  );
});
