import { EventEmitter, checkNumber } from '@ballast/core';
import type { FulfilmentOutcome, FulfilmentStore } from '../data/repository.js';
import type { Broker, Consumer, Delivery } from './broker.js';
import { PoisonMessageError } from './errors.js';

/** Options of {@link FulfilmentConsumer}. */
export interface FulfilmentConsumerOptions {
  readonly broker: Pick<Broker, 'subscribe'>;
  /** Applies the effect and records the event id in one transaction (the repository). */
  readonly store: FulfilmentStore;
  /** Queue to consume. @default 'retailflow.fulfilment' */
  readonly queue?: string;
  /** Name under which processed event ids are recorded. @default 'fulfilment' */
  readonly consumerName?: string;
  /** @default 10 */
  readonly prefetch?: number;
  /** @default 5 */
  readonly maxDeliveries?: number;
}

/** Tallies of what the consumer did with the deliveries it got. */
export interface FulfilmentCounts {
  /** Effects applied (orders fulfilled, shipments written). */
  readonly fulfilled: number;
  /** Deliveries of an event id already processed: nothing done (at-least-once delivery absorbed). */
  readonly duplicate: number;
  /** `order.confirmed` events for orders no longer confirmed (e.g. cancelled): recorded, nothing done. */
  readonly skipped: number;
  /** Events of other types on the queue, acknowledged without effect. */
  readonly ignored: number;
  /** Deliveries that threw (store down, poison payload). */
  readonly failed: number;
}

/** One delivery handled. */
export interface FulfilmentProcessedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly outcome: FulfilmentOutcome | 'ignored';
  readonly redelivered: boolean;
}

/**
 * The fulfilment consumer: on `order.confirmed` it ships the order. It is idempotent by event id — the
 * processed-event record and the shipment commit in one transaction — so the broker's at-least-once delivery
 * (redeliveries, relay republishing after a crash) gives exactly-once effects. `counts` is the proof.
 *
 * @example
 * ```ts
 * import { FulfilmentConsumer } from './events/index.js';
 * const fulfilment = new FulfilmentConsumer({ broker, store: repo });
 * await fulfilment.start(); // before relay.start(), so the queue exists and is bound
 * ```
 */
export class FulfilmentConsumer {
  readonly queue: string;
  readonly #broker: Pick<Broker, 'subscribe'>;
  readonly #store: FulfilmentStore;
  readonly #name: string;
  readonly #prefetch: number;
  readonly #maxDeliveries: number;
  readonly #processed = new EventEmitter<FulfilmentProcessedEvent>();
  #consumer: Consumer | undefined;
  #counts = { fulfilled: 0, duplicate: 0, skipped: 0, ignored: 0, failed: 0 };

  /** Fires for every delivery handled without error. */
  readonly onProcessed = this.#processed.event;

  constructor(options: FulfilmentConsumerOptions) {
    this.#broker = options.broker;
    this.#store = options.store;
    this.queue = options.queue ?? 'retailflow.fulfilment';
    this.#name = options.consumerName ?? 'fulfilment';
    this.#prefetch = checkNumber('prefetch', options.prefetch, 10, { integer: true, min: 1 });
    this.#maxDeliveries = checkNumber('maxDeliveries', options.maxDeliveries, 5, { integer: true, min: 1 });
  }

  /** A snapshot of the tallies. */
  get counts(): FulfilmentCounts {
    return { ...this.#counts };
  }

  /** Declares and binds the queue (`order.#`) and starts consuming. */
  async start(): Promise<void> {
    if (this.#consumer) return;
    this.#consumer = await this.#broker.subscribe(
      {
        queue: this.queue,
        topics: ['order.#'],
        prefetch: this.#prefetch,
        maxDeliveries: this.#maxDeliveries,
      },
      (delivery) => this.handle(delivery),
    );
  }

  /** Stops consuming and waits for the deliveries in flight. */
  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.close();
  }

  /** Handles one delivery (what the broker calls; exposed for tests and replays). */
  async handle(delivery: Delivery): Promise<void> {
    const { message } = delivery;
    try {
      let outcome: FulfilmentOutcome | 'ignored';
      if (message.type !== 'order.confirmed') {
        outcome = 'ignored';
      } else {
        if (message.aggregateType !== 'order') {
          throw new PoisonMessageError(
            `order.confirmed event ${message.id} is about a ${message.aggregateType}`,
          );
        }
        outcome = await this.#store.fulfilOrder({
          consumer: this.#name,
          eventId: message.id,
          tenantId: message.tenantId,
          orderId: message.aggregateId,
        });
      }
      this.#counts[outcome]++;
      if (this.#processed.hasListeners) {
        this.#processed.emit({
          eventId: message.id,
          type: message.type,
          outcome,
          redelivered: delivery.redelivered,
        });
      }
    } catch (error) {
      this.#counts.failed++;
      throw error;
    }
  }
}
