import type { Event } from '@ballast/core';

/**
 * The message a relay publishes and a consumer receives: one domain event (an outbox row), serialised as JSON.
 * `id` is the event id consumers deduplicate on; `type` (e.g. `order.confirmed`) is the routing key.
 */
export interface EventEnvelope {
  readonly id: string;
  readonly type: string;
  /**
   * Version of the payload's schema (`events/schemas/<type>/v<N>.schema.json`). Envelopes written before events were
   * versioned have none and are read as 1; `checkEnvelope` and `decodeEnvelope` fill it in.
   * @default 1
   */
  readonly schemaVersion?: number;
  readonly tenantId: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  /** When the change happened (the outbox row's `createdAt`), epoch ms. */
  readonly occurredAt: number;
  readonly payload: unknown;
}

/** One delivery of a message to a consumer. */
export interface Delivery {
  readonly message: EventEnvelope;
  /** True when the broker delivered this message before (a previous handler failed or the consumer died). */
  readonly redelivered: boolean;
  /** 1 for the first delivery, 2 for the first redelivery, … */
  readonly deliveryCount: number;
  /** The queue it came from. */
  readonly queue: string;
}

/**
 * Handles one delivery. Resolving acks the message. Throwing a `PoisonMessageError` rejects it straight to the
 * queue's dead-letter queue; any other error requeues it, until it has been delivered `maxDeliveries` times, after
 * which it goes to the dead-letter queue. A message whose body is not a valid {@link EventEnvelope} never reaches
 * the handler: it is dead-lettered as poison.
 */
export type MessageHandler = (delivery: Delivery) => Promise<void>;

/** Where a consumer reads from. */
export interface SubscribeOptions {
  /** Durable queue name; its dead-letter queue is `<queue>.dlq`. */
  readonly queue: string;
  /** Routing patterns bound to the queue: `*` matches one dot-separated word, `#` zero or more. */
  readonly topics: readonly string[];
  /** Unacknowledged deliveries in flight at once. @default 10 */
  readonly prefetch?: number;
  /**
   * Deliveries of one message before a failing one is dead-lettered (RabbitMQ: a quorum queue's
   * `x-delivery-limit`). @default 5
   */
  readonly maxDeliveries?: number;
}

/** A running consumer; `close()` stops deliveries and waits for the handlers in flight. */
export interface Consumer {
  readonly queue: string;
  close(): Promise<void>;
}

/** A message taken from a dead-letter queue. */
export interface DeadLetter {
  /** The decoded envelope, or `null` when the body was not one. */
  readonly message: EventEnvelope | null;
  /** The raw body as text. */
  readonly body: string;
  /** The queue it was dead-lettered from. */
  readonly queue: string;
  /**
   * Why, in RabbitMQ's `x-death` terms: `rejected` (poison: refused by the handler or undecodable) or
   * `delivery_limit` (failed `maxDeliveries` times).
   */
  readonly reason: string;
  /**
   * What the consumer said when it refused the message as poison (the `PoisonMessageError` message, e.g. a schema
   * version it does not know), or why the broker could not decode it; `undefined` when not known (e.g. dead-lettered
   * by the delivery limit, or by a RabbitMQ broker that could not republish with the reason).
   */
  readonly detail?: string;
}

/** Connection state changes, for `/readyz` and telemetry. */
export interface BrokerConnectionEvent {
  readonly connected: boolean;
  /** Why the connection went away, when it did. */
  readonly error?: unknown;
}

/**
 * A message broker with publisher confirms, manual acknowledgement and dead-lettering. Two implementations:
 * `InMemoryBroker` (in-process, the embedded default) and `RabbitMqBroker` (`AMQP_URL`).
 *
 * @example
 * ```ts
 * import { InMemoryBroker } from './events/index.js';
 * const broker = new InMemoryBroker();
 * await broker.subscribe({ queue: 'fulfilment', topics: ['order.confirmed'] }, async ({ message }) => {
 *   console.log('ship', message.aggregateId);
 * });
 * await broker.publish({ id: 'e1', type: 'order.confirmed', tenantId: 'acme', aggregateType: 'order',
 *   aggregateId: 'o1', occurredAt: 0, payload: {} });
 * ```
 */
export interface Broker {
  readonly kind: 'memory' | 'rabbitmq';
  /**
   * Publishes `message` (routing key: its `type`), resolving only once the broker confirmed it is stored.
   * Rejects with a `BrokerUnavailableError` when there is no connection (nothing was sent), and with a
   * `PublishRejectedError` when the broker refused or could not route the message.
   */
  publish(message: EventEnvelope): Promise<void>;
  /** Declares the queue (with its dead-letter queue), binds `topics` and starts consuming. */
  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Consumer>;
  /** Removes and returns up to `max` messages from `<queue>.dlq`. @default max 100 */
  takeDeadLetters(queue: string, max?: number): Promise<DeadLetter[]>;
  /** Messages waiting in `<queue>.dlq`. */
  deadLetterDepth(queue: string): Promise<number>;
  /** True while connected (always true in process). */
  readonly connected: boolean;
  /** Fires when the connection goes away or comes back. */
  readonly onConnectionChange: Event<BrokerConnectionEvent>;
  /** Resolves when the broker is reachable; rejects otherwise (for `/readyz`). */
  health(): Promise<void>;
  /** Stops consumers and closes the connection. */
  close(): Promise<void>;
}
