import { describe, expect, it } from 'vitest';
import {
  probeService,
  redactUrl,
  serviceUrl,
  servicesRequired,
  unreachableMessage,
} from '../src/services.js';

describe('service discovery', () => {
  it.each([
    ['redis', 'REDIS_URL', 'redis://127.0.0.1:6379'],
    ['postgres', 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/test'],
    ['rabbitmq', 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'],
  ] as const)('%s defaults to the local service and honours %s', (name, envVar, fallback) => {
    expect(serviceUrl(name, {})).toBe(fallback);
    expect(serviceUrl(name, { [envVar]: 'x://elsewhere:1' })).toBe('x://elsewhere:1');
    expect(serviceUrl(name, { [envVar]: '' })).toBe(fallback);
  });

  it('requires services only when BALLAST_REQUIRE_SERVICES is exactly 1', () => {
    expect(servicesRequired({ BALLAST_REQUIRE_SERVICES: '1' })).toBe(true);
    expect(servicesRequired({ BALLAST_REQUIRE_SERVICES: '0' })).toBe(false);
    expect(servicesRequired({})).toBe(false);
  });

  it('reports an unreachable service by name, with a masked password, without throwing', async () => {
    // Port 1 on loopback is never a Redis: the probe must come back unavailable with the reason.
    const status = await probeService('rabbitmq', { AMQP_URL: 'amqp://guest:secret@127.0.0.1:1' });
    expect(status.available).toBe(false);
    expect(status.reason).toBe('ECONNREFUSED');
    const message = unreachableMessage(status);
    expect(message).toContain('RabbitMQ unreachable');
    expect(message).toContain('AMQP_URL');
    expect(message).not.toContain('secret');
    expect(redactUrl('not a url')).toBe('not a url');
  });
});
