import { EventEmitter, checkNumber } from '@ballast/core';
import type { FulfilmentOutcome, FulfilmentStore } from '../data/repository.js';
import type { Broker, Consumer, Delivery } from './broker.js';
import { PoisonMessageError, isPoisonMessageError } from './errors.js';
import type { EventSchemaRegistry } from './schemas.js';
import { upcast, type Upcaster } from './upcasters.js';

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
  /** The schema versions this consumer knows; a newer version is dead-lettered. @default eventSchemas() */
  readonly registry?: EventSchemaRegistry;
  /** @default UPCASTERS */
  readonly upcasters?: readonly Upcaster[];
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
  /** Deliveries that threw (store down, poison payload), `rejected` ones included. */
  readonly failed: number;
  /** Deliveries refused as poison and dead-lettered at once (e.g. a schema version newer than this consumer). */
  readonly rejected: number;
}

/** A delivery refused as poison: it goes to the dead-letter queue with `reason`. */
export interface FulfilmentRejectedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly reason: string;
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
 * It is a tolerant reader: it lifts older payload versions with the upcasters, reads only `orderId`, and ignores
 * fields it does not know. An `order.confirmed` of a schema version newer than it knows, or without an `orderId`
 * matching the envelope, is refused as poison: the broker dead-letters it with the reason
 * (`DeadLetter.detail`), and it can be replayed once a consumer that knows the version is deployed. Events of
 * other types are acknowledged without effect, whatever their version.
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
  readonly #registry: EventSchemaRegistry | undefined;
  readonly #upcasters: readonly Upcaster[] | undefined;
  readonly #processed = new EventEmitter<FulfilmentProcessedEvent>();
  readonly #rejected = new EventEmitter<FulfilmentRejectedEvent>();
  #consumer: Consumer | undefined;
  #counts = { fulfilled: 0, duplicate: 0, skipped: 0, ignored: 0, failed: 0, rejected: 0 };

  /** Fires for every delivery handled without error. */
  readonly onProcessed = this.#processed.event;
  /** Fires for every delivery refused as poison (dead-lettered with the reason). */
  readonly onRejected = this.#rejected.event;

  constructor(options: FulfilmentConsumerOptions) {
    this.#broker = options.broker;
    this.#store = options.store;
    this.queue = options.queue ?? 'retailflow.fulfilment';
    this.#name = options.consumerName ?? 'fulfilment';
    this.#prefetch = checkNumber('prefetch', options.prefetch, 10, { integer: true, min: 1 });
    this.#maxDeliveries = checkNumber('maxDeliveries', options.maxDeliveries, 5, { integer: true, min: 1 });
    this.#registry = options.registry;
    this.#upcasters = options.upcasters;
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
        const event = upcast(message, {
          ...(this.#registry ? { registry: this.#registry } : {}),
          ...(this.#upcasters ? { upcasters: this.#upcasters } : {}),
        });
        const orderId = (event.payload as { orderId?: unknown } | null)?.orderId;
        if (typeof orderId !== 'string' || orderId !== message.aggregateId) {
          throw new PoisonMessageError(
            `order.confirmed event ${message.id}: payload.orderId ${JSON.stringify(orderId)} is not the ` +
              `envelope's aggregateId ${JSON.stringify(message.aggregateId)}`,
          );
        }
        outcome = await this.#store.fulfilOrder({
          consumer: this.#name,
          eventId: message.id,
          tenantId: message.tenantId,
          orderId,
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
      if (isPoisonMessageError(error)) {
        this.#counts.rejected++;
        if (this.#rejected.hasListeners) {
          this.#rejected.emit({
            eventId: message.id,
            type: message.type,
            schemaVersion: message.schemaVersion ?? 1,
            reason: error.message,
          });
        }
      }
      throw error;
    }
  }
}
