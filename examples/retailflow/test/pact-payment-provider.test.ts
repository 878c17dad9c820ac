import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MatchersV3, PactV4, Verifier } from '@pact-foundation/pact';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpPaymentGateway, isPaymentError } from '../src/payments/client.js';
import { startPaymentSimulator, type PaymentSimulator } from '../src/payments/simulator.js';
import { PACT_DIR, checkPactFile, scratchPactDir } from './pact-files.js';

const { integer, regex, string } = MatchersV3;

const CONSUMER = 'retailflow-checkout';
const PROVIDER = 'payment-provider';
const FILE = `${CONSUMER}-${PROVIDER}.json`;
const call = () => ({ signal: new AbortController().signal, deadline: undefined });

/**
 * RetailFlow's checkout (the consumer) states what it needs from the payment provider: the requests it sends
 * (`httpPaymentGateway`) and the answers it reads. The provider — the payment simulator — is verified against the
 * committed pact file, with no broker and no network beyond the loopback.
 */
describe('payment provider contract: the checkout (consumer) side', () => {
  const scratch = scratchPactDir();
  const pact = new PactV4({ consumer: CONSUMER, provider: PROVIDER, dir: scratch.dir, logLevel: 'error' });
  afterAll(() => scratch.remove());

  const chargeRequest = {
    amountCents: integer(1999),
    currency: string('USD'),
    reference: string('ord_1'),
  };

  it('a charge is taken and answered 201 with the charge', async () => {
    await pact
      .addInteraction()
      .given('the provider is up')
      .uponReceiving('a charge for an order')
      .withRequest('POST', '/v1/charges', (b) =>
        b.headers({ 'idempotency-key': regex(/^\S+$/, 'acme:ord_1') }).jsonBody(chargeRequest),
      )
      .willRespondWith(201, (b) =>
        b.jsonBody({
          id: string('ch_5d2c'),
          amountCents: integer(1999),
          currency: string('USD'),
          reference: string('ord_1'),
          status: 'succeeded',
        }),
      )
      .executeTest(async (server) => {
        const charge = await httpPaymentGateway(server.url).charge(
          { amountCents: 1999, currency: 'USD', reference: 'ord_1', idempotencyKey: 'acme:ord_1' },
          call(),
        );
        expect(charge).toMatchObject({ id: 'ch_5d2c', status: 'succeeded' });
      });
  });

  it('a retried charge with the same Idempotency-Key is answered 200 with the first charge', async () => {
    await pact
      .addInteraction()
      .given('a charge was taken with idempotency key acme:ord_2')
      .uponReceiving('the same charge again')
      .withRequest('POST', '/v1/charges', (b) =>
        b
          .headers({ 'idempotency-key': 'acme:ord_2' })
          .jsonBody({ amountCents: integer(600), currency: string('USD'), reference: string('ord_2') }),
      )
      .willRespondWith(200, (b) =>
        b.jsonBody({
          id: string('ch_91aa'),
          amountCents: integer(600),
          currency: string('USD'),
          reference: string('ord_2'),
          status: 'succeeded',
        }),
      )
      .executeTest(async (server) => {
        const charge = await httpPaymentGateway(server.url).charge(
          { amountCents: 600, currency: 'USD', reference: 'ord_2', idempotencyKey: 'acme:ord_2' },
          call(),
        );
        expect(charge.id).toBe('ch_91aa');
      });
  });

  it('a provider that is down answers 503, which the checkout retries (a retryable PaymentError)', async () => {
    await pact
      .addInteraction()
      .given('the provider is down')
      .uponReceiving('a charge while the provider is down')
      .withRequest('POST', '/v1/charges', (b) => b.jsonBody(chargeRequest))
      .willRespondWith(503)
      .executeTest(async (server) => {
        const error = await httpPaymentGateway(server.url)
          .charge({ amountCents: 1999, currency: 'USD', reference: 'ord_1', idempotencyKey: 'k' }, call())
          .catch((e: unknown) => e);
        expect(isPaymentError(error) && error.status === 503 && error.retryable).toBe(true);
      });
  });

  it('a charge the provider refuses is answered 4xx, which the checkout records as declined (not retryable)', async () => {
    await pact
      .addInteraction()
      .given('the provider is up')
      .uponReceiving('a charge of zero')
      .withRequest('POST', '/v1/charges', (b) =>
        b.jsonBody({ amountCents: 0, currency: string('USD'), reference: string('ord_3') }),
      )
      .willRespondWith(400)
      .executeTest(async (server) => {
        const error = await httpPaymentGateway(server.url)
          .charge({ amountCents: 0, currency: 'USD', reference: 'ord_3', idempotencyKey: 'k3' }, call())
          .catch((e: unknown) => e);
        expect(isPaymentError(error) && error.status === 400 && !error.retryable).toBe(true);
      });
  });

  it('the pact file written matches the committed one', () => {
    checkPactFile(scratch.dir, FILE);
  });
});

/** Runs Pact's verifier for the committed pact against a provider at `baseUrl`. */
function verify(baseUrl: string, simulator: PaymentSimulator): Promise<unknown> {
  const up = () => {
    simulator.setKnobs({ down: false, errorRate: 0, latencyMs: 0 });
    return Promise.resolve();
  };
  return new Verifier({
    provider: PROVIDER,
    providerBaseUrl: baseUrl,
    pactUrls: [join(PACT_DIR, FILE)],
    logLevel: 'error',
    stateHandlers: {
      'the provider is up': up,
      'the provider is down': () => {
        simulator.setKnobs({ down: true });
        return Promise.resolve();
      },
      'a charge was taken with idempotency key acme:ord_2': async () => {
        await up();
        await fetch(new URL('/v1/charges', simulator.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'acme:ord_2' },
          body: JSON.stringify({ amountCents: 600, currency: 'USD', reference: 'ord_2' }),
        });
      },
    },
  }).verifyProvider();
}

describe('payment provider contract: the provider (simulator) side', () => {
  let simulator: PaymentSimulator;
  beforeAll(async () => {
    simulator = await startPaymentSimulator({ port: 0 });
  });
  afterAll(() => simulator.close());

  it('the payment simulator honours every interaction the checkout expects', async () => {
    await expect(verify(simulator.url, simulator)).resolves.toBeDefined();
  });

  it("a provider change that breaks the checkout's expectation fails verification with Pact's report", async () => {
    // A fresh provider behind a change a provider team might make: the charge id renamed to `chargeId`.
    const fresh = await startPaymentSimulator({ port: 0 });
    const renamed = http.createServer((req, res) => {
      const upstream = http.request(
        new URL(req.url ?? '/', fresh.url),
        { method: req.method, headers: req.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (c: Buffer) => chunks.push(c));
          answer.on('end', () => {
            let body = Buffer.concat(chunks).toString('utf8');
            if ((answer.headers['content-type'] ?? '').startsWith('application/json') && body !== '') {
              const { id, ...rest } = JSON.parse(body) as Record<string, unknown>;
              body = JSON.stringify(id === undefined ? rest : { chargeId: id, ...rest });
            }
            res.writeHead(answer.statusCode ?? 502, {
              'content-type': answer.headers['content-type'] ?? 'application/json',
              'content-length': Buffer.byteLength(body),
            });
            res.end(body);
          });
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => renamed.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = renamed.address() as AddressInfo;
      const failure = await verify(`http://127.0.0.1:${port}`, fresh).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      // Pact's verification report (JSON): which interaction failed and which field is missing.
      const report = JSON.parse((failure as Error).message) as {
        result: boolean;
        errors: { interaction: string; mismatch: { mismatches?: { mismatch?: string; path?: string }[] } }[];
      };
      expect(report.result).toBe(false);
      const failed = report.errors.map((e) => e.interaction);
      expect(failed).toEqual([
        expect.stringContaining('Given the provider is up - a charge for an order'),
        expect.stringContaining(
          'Given a charge was taken with idempotency key acme:ord_2 - the same charge again',
        ),
      ]);
      const mismatches = report.errors.flatMap((e) => e.mismatch.mismatches ?? []);
      expect(mismatches).toContainEqual(
        expect.objectContaining({ path: '$', mismatch: 'Actual map is missing the following keys: id' }),
      );
    } finally {
      await new Promise<void>((resolve) => renamed.close(() => resolve()));
      await fresh.close();
    }
  });
});
