import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDevCertificates, mtlsFetch, type DevCertificates } from '../../src/identity/mtls.js';
import { httpPaymentGateway, isPaymentError } from '../../src/payments/client.js';
import { startPaymentSimulator, type PaymentSimulator } from '../../src/payments/simulator.js';

const request = { amountCents: 1999, currency: 'EUR', reference: 'ord_1', idempotencyKey: 'k1' };
const call = () => ({ signal: AbortSignal.timeout(10_000), deadline: undefined });

describe('mutual TLS between RetailFlow and the payment provider', () => {
  let certs: DevCertificates;
  let provider: PaymentSimulator;
  beforeAll(async () => {
    certs = await generateDevCertificates();
    provider = await startPaymentSimulator({ tls: certs.server });
  }, 60_000);
  afterAll(async () => {
    await provider?.close();
  });

  it('charges when RetailFlow presents its client certificate', async () => {
    expect(provider.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const gateway = httpPaymentGateway(provider.url, mtlsFetch(certs.client));
    await expect(gateway.charge(request, call())).resolves.toMatchObject({
      status: 'succeeded',
      amountCents: 1999,
    });
    expect(provider.charges).toBe(1);
  });

  it.each([
    ['no client certificate', () => mtlsFetch({ ca: certs.client.ca })],
    ['a certificate from another CA', () => mtlsFetch(certs.stranger)],
  ])('refuses a client with %s at the handshake', async (_name, fetchImpl) => {
    const before = provider.attempts;
    const gateway = httpPaymentGateway(provider.url, fetchImpl());
    const error = await gateway.charge({ ...request, idempotencyKey: 'k2' }, call()).catch((e: unknown) => e);
    expect(isPaymentError(error) && error.status === undefined).toBe(true);
    expect(provider.attempts).toBe(before);
  });

  it('refuses plain HTTP and a server the client does not trust', async () => {
    await expect(fetch(provider.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
    const other = await generateDevCertificates();
    const distrustful = httpPaymentGateway(provider.url, mtlsFetch({ ...certs.client, ca: other.client.ca }));
    await expect(distrustful.charge({ ...request, idempotencyKey: 'k3' }, call())).rejects.toSatisfy(
      isPaymentError,
    );
  }, 60_000);
});

describe('RetailFlow with PAYMENT_MTLS', () => {
  it('checks out through the mutually authenticated payment hop', async () => {
    const { startTestService, order, ACME, settle } = await import('../helpers.js');
    const { service, clock } = await startTestService({ paymentMtls: true });
    try {
      expect(service.provider?.url).toMatch(/^https:/);
      const created = await settle(clock, order(service.url, ACME, 'mtls-1'));
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('confirmed');
      expect(service.provider?.charges).toBe(1);
    } finally {
      await service.shutdown();
    }
  }, 60_000);
});
