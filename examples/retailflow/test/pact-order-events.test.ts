import { join } from 'node:path';
import { ManualClock } from '@ballast/core';
import {
  MatchersV3,
  MessageConsumerPact,
  MessageProviderPact,
  asynchronousBodyHandler,
  type MessageProvider,
} from '@pact-foundation/pact';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDriver } from '../src/data/sqlite-driver.js';
import { SqlRepository, applyMigrations, requestHash, seedDemoData } from '../src/data/index.js';
import {
  FulfilmentConsumer,
  InMemoryBroker,
  checkEnvelope,
  envelopeFromOutbox,
  type EventEnvelope,
} from '../src/events/index.js';
import { KEYS } from './data-contract.js';
import { fakeFulfilmentStore } from './fake-fulfilment-store.js';
import { PACT_DIR, checkPactFile, scratchPactDir } from './pact-files.js';

const { integer, like, string, uuid } = MatchersV3;

const CONSUMER = 'retailflow-fulfilment';
const PROVIDER = 'retailflow-order-events';
const FILE = `${CONSUMER}-${PROVIDER}.json`;

/** Hands `body` to a fulfilment consumer as one delivery; resolves with what it shipped. */
async function deliver(body: unknown): Promise<{ shipped: string[]; counts: FulfilmentConsumer['counts'] }> {
  const store = fakeFulfilmentStore();
  const consumer = new FulfilmentConsumer({ broker: new InMemoryBroker(), store });
  await consumer.handle({ message: checkEnvelope(body), redelivered: false, deliveryCount: 1, queue: 'q' });
  return { shipped: store.shipped, counts: consumer.counts };
}

/**
 * The fulfilment consumer states which order events it reads and which fields of them (message pacts): the
 * envelope it routes and deduplicates on, and `payload.orderId` of `order.confirmed`. The producer side — the
 * outbox rows RetailFlow's orders write, turned into envelopes as the relay publishes them — is verified against
 * the committed pact file.
 */
describe('order events contract: the fulfilment (consumer) side', () => {
  const scratch = scratchPactDir();
  const pact = () =>
    new MessageConsumerPact({ consumer: CONSUMER, provider: PROVIDER, dir: scratch.dir, logLevel: 'error' });
  afterAll(() => scratch.remove());

  const envelopeOf = (type: string, payload: unknown) => ({
    id: uuid('5b2c1f4e-8a44-4c3e-9d1f-0b7d7c0e2a11'),
    type,
    schemaVersion: integer(1),
    tenantId: string('acme'),
    aggregateType: 'order',
    aggregateId: string('ord_1'),
    occurredAt: integer(1_700_000_000_000),
    payload,
  });

  it('ships the order of an order.confirmed event', async () => {
    await pact()
      .given('an order was paid')
      .expectsToReceive('an order.confirmed event')
      .withContent(envelopeOf('order.confirmed', { orderId: string('ord_1') }))
      .verify(
        asynchronousBodyHandler(async (body) => {
          const { shipped } = await deliver(body);
          expect(shipped).toEqual(['ord_1']);
        }),
      );
  });

  it('acknowledges an order.created event without effect (it only needs the envelope)', async () => {
    await pact()
      .given('an order was placed')
      .expectsToReceive('an order.created event')
      .withContent(envelopeOf('order.created', like({})))
      .verify(
        asynchronousBodyHandler(async (body) => {
          const { shipped, counts } = await deliver(body);
          expect(shipped).toEqual([]);
          expect(counts.ignored).toBe(1);
        }),
      );
  });

  it('the pact file written matches the committed one', () => {
    checkPactFile(scratch.dir, FILE);
  });
});

/** RetailFlow's own producer: real orders in a SQLite store, their outbox rows turned into envelopes by the relay's code. */
async function producer() {
  const clock = new ManualClock(1_700_000_000_000);
  const driver = new SqliteDriver(':memory:');
  await applyMigrations(driver, clock);
  const repo = new SqlRepository(driver, { clock });
  await seedDemoData(repo, { apiKeys: KEYS });
  let n = 0;
  const placeOrder = async () => {
    const items = [{ productId: 'sku-filter', quantity: 1 }];
    const r = await repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: `pact-${++n}`,
      requestHash: requestHash({ items }),
      items,
    });
    if (r.outcome !== 'created') throw new Error(`could not place an order: ${r.outcome}`);
    return r.order.id;
  };
  /** The envelope the relay would publish for the newest outbox event of `type`. */
  const published = async (type: string): Promise<EventEnvelope> => {
    const rows = await repo.claimOutbox({ limit: 100, leaseMs: 60_000 });
    const row = rows.filter((r) => r.type === type).at(-1);
    await repo.releaseClaims(rows.map((r) => r.id));
    if (!row) throw new Error(`no ${type} event in the outbox`);
    return envelopeFromOutbox(row);
  };
  return { repo, driver, placeOrder, published };
}

function verifyProducer(
  messageProviders: Record<string, MessageProvider>,
  stateHandlers: Record<string, () => Promise<unknown>>,
) {
  return new MessageProviderPact({
    provider: PROVIDER,
    pactUrls: [join(PACT_DIR, FILE)],
    logLevel: 'error',
    messageProviders,
    stateHandlers,
  }).verify();
}

describe('order events contract: the producer (orders + outbox relay) side', () => {
  it('publishes order events the way the fulfilment consumer expects', async () => {
    const p = await producer();
    try {
      await expect(
        verifyProducer(
          {
            'an order.confirmed event': () => p.published('order.confirmed'),
            'an order.created event': () => p.published('order.created'),
          },
          {
            'an order was placed': () => p.placeOrder(),
            'an order was paid': async () => {
              const orderId = await p.placeOrder();
              await p.repo.recordPayment({
                tenantId: 'acme',
                orderId,
                payment: { ok: true, paymentId: 'ch_1' },
              });
            },
          },
        ),
      ).resolves.toBeDefined();
    } finally {
      await p.driver.close();
    }
  });

  it("a producer change that breaks the consumer's expectation fails verification with Pact's report", async () => {
    const p = await producer();
    try {
      // A change a producer might make: `orderId` renamed to `order_id` in the payload.
      const renamed = async (): Promise<EventEnvelope> => {
        const e = await p.published('order.confirmed');
        const { orderId, ...rest } = e.payload as Record<string, unknown>;
        return { ...e, payload: { ...rest, order_id: orderId } };
      };
      const failure = await verifyProducer(
        { 'an order.confirmed event': renamed, 'an order.created event': () => p.published('order.created') },
        {
          'an order was placed': () => p.placeOrder(),
          'an order was paid': async () => {
            const orderId = await p.placeOrder();
            await p.repo.recordPayment({
              tenantId: 'acme',
              orderId,
              payment: { ok: true, paymentId: 'ch_1' },
            });
          },
        },
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      const report = JSON.parse((failure as Error).message) as {
        result: boolean;
        errors: { interaction: string; mismatch: { mismatches?: { mismatch?: string; path?: string }[] } }[];
      };
      expect(report.result).toBe(false);
      expect(report.errors.map((e) => e.interaction)).toEqual([
        expect.stringContaining('an order.confirmed event'),
      ]);
      expect(report.errors.flatMap((e) => e.mismatch.mismatches ?? [])).toContainEqual(
        expect.objectContaining({
          path: '$.payload',
          mismatch: 'Actual map is missing the following keys: orderId',
        }),
      );
    } finally {
      await p.driver.close();
    }
  });
});
