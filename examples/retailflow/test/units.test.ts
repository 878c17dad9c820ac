import { describe, expect, it } from 'vitest';
import { ManualClock } from '@ballast/core';
import { DEFAULT_CONFIG, loadConfig } from '../src/config.js';
import { FLAG_RULES, FeatureFlags, type BudgetPolicyState } from '../src/flags/flags.js';
import { bearerToken } from '../src/http/auth.js';
import { classify } from '../src/http/priority.js';
import { Readiness } from '../src/ops/readiness.js';
import { sloPageRenderer } from '../src/ops/slo-page.js';
import { httpPaymentGateway, isPaymentError } from '../src/payments/client.js';
import { startPaymentSimulator } from '../src/payments/simulator.js';

describe('loadConfig', () => {
  it('uses the embedded defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual(DEFAULT_CONFIG);
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ' })).toEqual(DEFAULT_CONFIG);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      REDIS_URL: 'redis://127.0.0.1:6379',
      AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      PAYMENT_URL: 'http://payments:9000',
      FREE_REQUESTS_PER_MINUTE: '30',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: 'redis://127.0.0.1:6379',
      amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
      otlpEndpoint: 'http://collector:4318',
      paymentUrl: 'http://payments:9000',
      freeRequestsPerMinute: 30,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'Expected `PORT` to be an integer from 0 to 65535, got `"eighty"` (string)'],
    [{ PORT: '70000' }, 'Expected `PORT` to be an integer from 0 to 65535, got `"70000"` (string)'],
    [{ DATABASE_URL: 'mysql://x' }, 'Expected `DATABASE_URL` to be a postgres: or postgresql: URL'],
    [{ REDIS_URL: 'not a url' }, 'Expected `REDIS_URL` to be a URL (redis: or rediss:)'],
    [
      { ADMIN_KEY: 'short' },
      'Expected `ADMIN_KEY` to be 8-256 printable ASCII characters, got a value of 5 characters',
    ],
  ])('names the bad variable: %o', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('FeatureFlags', () => {
  it('turns a budget-guarded flag off only while that budget is exhausted', () => {
    let state: BudgetPolicyState = 'ok';
    const flags = new FeatureFlags(FLAG_RULES, () => state);
    expect(flags.isEnabled('recommendations')).toBe(true);
    state = 'warning';
    expect(flags.isEnabled('recommendations')).toBe(true);
    state = 'exhausted';
    expect(flags.get('recommendations')).toEqual({
      name: 'recommendations',
      enabled: false,
      reason: 'error budget of checkout-availability exhausted',
    });
    expect(flags.isEnabled('express-shipping')).toBe(true);
    expect(flags.get('nope')).toMatchObject({ enabled: false, reason: 'unknown flag' });
  });

  it('prefers the tenant override to the global one, and the exhausted budget to both', () => {
    let state: BudgetPolicyState = 'ok';
    const flags = new FeatureFlags(FLAG_RULES, () => state);
    const at = 0;
    const global = { tenantId: null, flag: 'recommendations', enabled: false, updatedAt: at };
    const own = { tenantId: 'acme', flag: 'recommendations', enabled: true, updatedAt: at };
    expect(flags.get('recommendations', [global])).toMatchObject({
      enabled: false,
      reason: 'global override',
    });
    expect(flags.get('recommendations', [global, own])).toMatchObject({
      enabled: true,
      reason: 'tenant override',
    });
    state = 'exhausted';
    expect(flags.get('recommendations', [global, own])).toMatchObject({ enabled: false });
    expect(flags.get('express-shipping', [{ ...global, flag: 'express-shipping' }]).enabled).toBe(false);
  });
});

describe('small HTTP helpers', () => {
  it('reads bearer tokens strictly', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   k1  ')).toBe('k1');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer two words')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it.each([
    ['POST', '/orders', 'critical'],
    ['GET', '/products', 'sheddable'],
    ['GET', '/products/sku-1', 'sheddable'],
    ['GET', '/orders', 'default'],
    ['DELETE', '/orders/1', 'default'],
  ] as const)('classes %s %s as %s', (method, path, priority) => {
    expect(classify({ method, path })).toBe(priority);
  });
});

describe('SLO page', () => {
  it('renders every SLO and escapes what it shows', () => {
    const html = sloPageRenderer()(
      {
        service: 'retailflow',
        slos: [
          {
            name: 'a',
            displayName: '<script>x</script>',
            objective: 0.995,
            sli: null,
            errorBudgetRemaining: 1,
            policy: 'ok',
          },
          {
            name: 'b',
            displayName: 'B',
            objective: 0.99,
            sli: 0.9,
            errorBudgetRemaining: -9,
            policy: 'exhausted',
          },
        ],
      },
      new Date(0),
    );
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('no events yet');
    expect(html).toContain('class="policy exhausted"');
    expect(html).toContain('99.50%');
    expect(html).toContain('width: 0%');
  });
});

describe('Readiness', () => {
  it('fails a check that does not answer in time and reports draining', async () => {
    const clock = new ManualClock(0);
    const readiness = new Readiness(
      [
        { name: 'fast', check: () => Promise.resolve() },
        { name: 'hung', check: () => new Promise<void>(() => {}) },
        { name: 'down', check: () => Promise.reject(new Error('connection refused')) },
      ],
      clock,
      500,
    );
    const pending = readiness.report();
    await clock.advanceAsync(500);
    const report = await pending;
    expect(report.status).toBe('not-ready');
    expect(report.checks).toMatchObject({
      fast: { ok: true },
      hung: { ok: false, detail: 'no answer within 500 ms' },
      down: { ok: false, detail: 'connection refused' },
      draining: { ok: true },
    });
    readiness.startDraining();
    const drained = readiness.report();
    await clock.advanceAsync(500);
    expect((await drained).checks.draining).toEqual({ ok: false, detail: 'shutting down' });
  });
});

describe('payment provider simulator and client', () => {
  it('charges idempotently and obeys its knobs', async () => {
    const provider = await startPaymentSimulator({ random: () => 0.25 });
    try {
      const gateway = httpPaymentGateway(provider.url);
      const call = { signal: new AbortController().signal, deadline: undefined };
      const request = { amountCents: 500, currency: 'USD', reference: 'o1', idempotencyKey: 'k1' };
      const first = await gateway.charge(request, call);
      const again = await gateway.charge(request, call);
      expect(again.id).toBe(first.id);
      expect(provider.charges).toBe(1);

      provider.setKnobs({ errorRate: 0.5 }); // random() = 0.25 < 0.5: this charge fails
      const failed = await gateway
        .charge({ ...request, idempotencyKey: 'k2' }, call)
        .catch((e: unknown) => e);
      expect(isPaymentError(failed) && failed.status === 503 && failed.retryable).toBe(true);

      provider.setKnobs({ errorRate: 0 });
      const declined = await gateway.charge({ ...request, amountCents: -1 }, call).catch((e: unknown) => e);
      expect(isPaymentError(declined) && declined.status === 400 && !declined.retryable).toBe(true);

      const knobs = await fetch(`${provider.url}/admin/knobs`, { method: 'PUT', body: '{"latencyMs":-5}' });
      expect(knobs.status).toBe(400);
      expect(await knobs.text()).toContain('Expected `latencyMs` to be a finite number >= 0 <= 60000');
      expect(() => provider.setKnobs({ down: 'yes' as unknown as boolean })).toThrow(
        'Expected `down` to be a boolean',
      );
    } finally {
      await provider.close();
    }
  });
});
