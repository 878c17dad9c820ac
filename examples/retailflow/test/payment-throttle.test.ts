import { ManualClock } from '@ballast/core';
import { isThrottledError, type PolicyEvent } from '@ballast/resilience';
import { seededRandom } from '@ballast/testkit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, loadConfig, type RetailFlowConfig } from '../src/config.js';
import { PaymentError } from '../src/payments/client.js';
import { createPolicies } from '../src/wiring/policies.js';
import { isProviderRejection, paymentThrottle } from '../src/payments/throttle.js';

/**
 * A fake payment provider on a ManualClock. Each second it accepts up to `capacity` attempts and answers the rest
 * with a 503 (an overloaded provider), or, with `failureRate`, fails that share of attempts whatever the load, or
 * declines (402) that share with `declineRate`.
 */
function fakeProvider(clock: ManualClock, random: () => number) {
  const state = { capacity: Infinity, failureRate: 0, declineRate: 0, received: 0, rejected: 0 };
  let second = -1;
  let acceptedThisSecond = 0;
  const charge = (): Promise<string> => {
    state.received++;
    const now = Math.floor(clock.now() / 1000);
    if (now !== second) {
      second = now;
      acceptedThisSecond = 0;
    }
    if (state.declineRate > 0 && random() < state.declineRate) {
      return Promise.reject(new PaymentError('payment provider answered 402', 402, false));
    }
    if (acceptedThisSecond >= state.capacity || (state.failureRate > 0 && random() < state.failureRate)) {
      state.rejected++;
      return Promise.reject(new PaymentError('payment provider answered 503', 503, true));
    }
    acceptedThisSecond++;
    return Promise.resolve('ch_1');
  };
  return { state, charge };
}

/** Checkout attempts at `perSecond` through the throttle for `seconds`; the share refused locally, and the provider's load. */
async function drive(
  clock: ManualClock,
  throttle: ReturnType<typeof paymentThrottle>,
  provider: ReturnType<typeof fakeProvider>,
  seconds: number,
  perSecond = 50,
) {
  let attempts = 0;
  let local = 0;
  const receivedBefore = provider.state.received;
  for (let i = 0; i < seconds * perSecond; i++) {
    clock.advance(1000 / perSecond);
    attempts++;
    try {
      await throttle.execute(provider.charge);
    } catch (error) {
      if (isThrottledError(error)) local++;
    }
  }
  return {
    localShare: local / attempts,
    providerPerSecond: (provider.state.received - receivedBefore) / seconds,
  };
}

function setup(k = 2) {
  const clock = new ManualClock(0);
  const throttle = paymentThrottle({ k, windowMs: 5_000, clock, random: seededRandom(11) });
  const provider = fakeProvider(clock, seededRandom(23));
  return { clock, throttle, provider };
}

describe('payment throttle', () => {
  it.each([
    // An overloaded provider accepts `capacity` a second of the 50 attempts a second. Unthrottled it would reject
    // 1 - capacity / 50 of them; throttled, this client refuses max(0, 1 - K * capacity / 50) locally (at most 0.9)
    // and sends the provider about K * capacity a second (at least a tenth of the attempts).
    { capacity: 50, rejects: 0 },
    { capacity: 25, rejects: 0.5 },
    { capacity: 10, rejects: 0.8 },
    { capacity: 5, rejects: 0.9 },
    { capacity: 2, rejects: 0.96 },
    { capacity: 0, rejects: 1 },
  ])(
    'refuses locally the share the provider would reject beyond 1 - K x its accepts ($rejects rejected)',
    async ({ capacity, rejects }) => {
      const { clock, throttle, provider } = setup();
      provider.state.capacity = capacity;
      await drive(clock, throttle, provider, 10); // two windows to settle
      const { localShare, providerPerSecond } = await drive(clock, throttle, provider, 30);
      const expected = Math.min(0.9, Math.max(0, 1 - 2 * (1 - rejects)));
      expect(localShare).toBeGreaterThanOrEqual(expected - 0.05);
      expect(localShare).toBeLessThanOrEqual(expected + 0.05);
      // What reaches the provider: about K times what it accepts (all of it while that is above the offered 50).
      const sent = Math.max(5, Math.min(50, 2 * capacity));
      expect(providerPerSecond).toBeGreaterThanOrEqual(sent - 2.5);
      expect(providerPerSecond).toBeLessThanOrEqual(sent + 2.5);
    },
  );

  it('lets the checkouts of a provider failing 40% of its calls through (the drill of a bad build)', async () => {
    const { clock, throttle, provider } = setup();
    provider.state.failureRate = 0.4;
    await drive(clock, throttle, provider, 10);
    expect((await drive(clock, throttle, provider, 30)).localShare).toBeLessThan(0.02);
  });

  it('does not count declines as rejections: a provider that declines most cards is up', async () => {
    const { clock, throttle, provider } = setup();
    provider.state.declineRate = 0.9;
    expect((await drive(clock, throttle, provider, 20)).localShare).toBe(0);
  });

  it('follows the provider back: refusals stop within two windows of the provider recovering', async () => {
    const { clock, throttle, provider } = setup();
    provider.state.capacity = 0;
    expect((await drive(clock, throttle, provider, 10)).localShare).toBeGreaterThan(0.85);
    provider.state.capacity = Infinity;
    const recovering = await drive(clock, throttle, provider, 10);
    expect(recovering.localShare).toBeGreaterThan(0);
    expect((await drive(clock, throttle, provider, 5)).localShare).toBe(0);
    expect(throttle.rejectionProbability).toBe(0);
  });

  it('reports each local refusal as a rejected event with reason throttled (the policy-event metrics)', async () => {
    const { clock, throttle, provider } = setup();
    const events: PolicyEvent[] = [];
    throttle.onEvent((event) => events.push(event));
    provider.state.capacity = 0;
    const { localShare } = await drive(clock, throttle, provider, 5);
    const throttled = events.filter((e) => e.type === 'rejected' && e.reason === 'throttled');
    expect(throttled.length).toBe(Math.round(localShare * 250));
    expect(throttled.every((e) => e.policy === 'payment-throttle')).toBe(true);
  });

  it.each([
    [new PaymentError('payment provider answered 503', 503, true), true],
    [new PaymentError('payment provider answered 429', 429, true), true],
    [new PaymentError('payment provider unreachable', undefined, true), true],
    [new Error('payment timed out'), true],
    [new PaymentError('payment provider answered 402', 402, false), false],
    [new PaymentError('payment provider answered 400', 400, false), false],
  ])('isProviderRejection(%s) is %s', (error, expected) => {
    expect(isProviderRejection(error)).toBe(expected);
  });
});

describe('payment throttle in the payment policies', () => {
  async function policies(config: Partial<RetailFlowConfig> = {}) {
    const clock = new ManualClock(0);
    const built = await createPolicies({
      config: { ...DEFAULT_CONFIG, ...config },
      clock,
      random: () => 0.5,
      namespace: 'payment-throttle-test',
    });
    return { clock, built };
  }

  it('counts every attempt, retries included, and only the provider’s rejections against it', async () => {
    const { clock, built } = await policies();
    const throttle = built.paymentThrottle!;
    expect(built.observable).toContain(throttle);
    await built.payment(() => Promise.resolve('ch_1'), undefined);
    await expect(
      built.payment(
        () => Promise.reject(new PaymentError('payment provider answered 402', 402, false)),
        undefined,
      ),
    ).rejects.toThrow('402');
    expect([throttle.requests, throttle.accepts]).toEqual([2, 2]);
    // A 503 is retried (3 attempts with backoff on the clock): three attempts, none accepted.
    const failing = built.payment(
      () => Promise.reject(new PaymentError('payment provider answered 503', 503, true)),
      undefined,
    );
    const outcome = failing.catch((error: unknown) => error);
    for (let i = 0; i < 40; i++) await clock.advanceAsync(100);
    expect(await outcome).toBeInstanceOf(PaymentError);
    expect([throttle.requests, throttle.accepts]).toEqual([5, 2]);
    await built.close();
  });

  it('is off with PAYMENT_THROTTLE_K=0', async () => {
    const { built } = await policies({ paymentThrottleK: 0 });
    expect(built.paymentThrottle).toBeUndefined();
    expect(await built.payment(() => Promise.resolve('ch_1'), undefined)).toBe('ch_1');
    await built.close();
  });

  it.each([
    [{ PAYMENT_THROTTLE_K: '3' }, 3, 5000],
    [{ PAYMENT_THROTTLE_K: '0', PAYMENT_THROTTLE_WINDOW_MS: '8000' }, 0, 8000],
  ])('reads %j', (env, k, windowMs) => {
    const config = loadConfig(env);
    expect([config.paymentThrottleK, config.paymentThrottleWindowMs]).toEqual([k, windowMs]);
  });

  it.each([
    [
      { PAYMENT_THROTTLE_K: '0.5' },
      'Expected `PAYMENT_THROTTLE_K` to be 0 (off) or a number from 1 to 100, got `"0.5"` (string)',
    ],
    [
      { PAYMENT_THROTTLE_WINDOW_MS: '10000' },
      'Expected `PAYMENT_THROTTLE_WINDOW_MS` to be an integer from 1000 to 9000, got `"10000"` (string)',
    ],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(new TypeError(message));
  });
});
