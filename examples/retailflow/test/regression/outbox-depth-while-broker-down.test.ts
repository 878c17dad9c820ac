import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, setErrorHandler } from '@ballast/core';
import { renderMetrics } from '@ballast/telemetry';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { createTelemetry } from '../../src/wiring/telemetry.js';

// Found by the proof: with RabbitMQ stopped, reading the dead-letter queue depth failed, and the outbox depth read
// in the same call froze at its last value, so /metrics showed 4 waiting events while 366 piled up. The outbox
// lag alert and the on-call dashboard read that gauge exactly when the broker is away.

describe('outbox depth while the broker is down', () => {
  afterEach(() => setErrorHandler(undefined));

  it('is read from the database even when the dead-letter queue depth cannot be read', async () => {
    const reported: string[] = [];
    setErrorHandler((_error, context) => reported.push(context));
    const telemetry = createTelemetry({ config: { ...DEFAULT_CONFIG, port: 0 }, clock: new ManualClock() });
    let depth = 4;
    telemetry.readEventGauges({
      outboxDepth: () => Promise.resolve(depth),
      dlq: () => Promise.reject(new Error('broker unreachable')),
    });
    expect(await renderMetrics(telemetry.metrics, 'prometheus')).toMatch(
      /^retailflow_outbox_depth\{[^}]*\} 4$/m,
    );
    depth = 366;
    expect(await renderMetrics(telemetry.metrics, 'prometheus')).toMatch(
      /^retailflow_outbox_depth\{[^}]*\} 366$/m,
    );
    expect(reported).toContain('retailflow: reading the dead-letter queue depth for /metrics');
    await telemetry.shutdown();
  });
});
