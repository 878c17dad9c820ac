import { EventEmitter, checkNumber, reportError } from '@ballast/core';
import type {
  Broker,
  BrokerConnectionEvent,
  Consumer,
  DeadLetter,
  Delivery,
  EventEnvelope,
  MessageHandler,
  SubscribeOptions,
} from './broker.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { BrokerUnavailableError, PublishRejectedError, isPoisonMessageError } from './errors.js';
import { topicMatches } from './topic.js';

interface Stored {
  readonly body: string;
  deliveries: number;
}

interface QueueState {
  readonly name: string;
  readonly topics: Set<string>;
  readonly ready: Stored[];
  readonly dead: DeadLetter[];
  maxDeliveries: number;
  consumer: ConsumerState | undefined;
}

interface ConsumerState {
  readonly handler: MessageHandler;
  readonly prefetch: number;
  inFlight: number;
  closed: boolean;
  idle: (() => void) | undefined;
}

/** Options of {@link InMemoryBroker}. */
export interface InMemoryBrokerOptions {
  /** Messages a queue holds before `publish` is refused (a negative confirm). @default 100000 */
  readonly maxQueueLength?: number;
}

/**
 * The in-process broker, RetailFlow's embedded default. It keeps RabbitMQ's semantics so the same relay and
 * consumers run on both: topic routing, a confirm only once the message is queued, per-consumer prefetch,
 * ack on success, redelivery up to `maxDeliveries`, a dead-letter queue per queue. Messages are serialised on
 * publish, so a consumer never shares objects with the publisher. Not durable: a process restart loses queued
 * messages (the outbox still has every event that was not confirmed).
 *
 * It doubles as a test double: {@link InMemoryBroker.disconnect} makes it unavailable (publish rejects with a
 * `BrokerUnavailableError`, deliveries pause) until {@link InMemoryBroker.reconnect}.
 *
 * @example
 * ```ts
 * import { InMemoryBroker } from './events/index.js';
 * const broker = new InMemoryBroker();
 * await broker.subscribe({ queue: 'audit', topics: ['order.#'] }, async ({ message }) => console.log(message.type));
 * ```
 */
export class InMemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  readonly #queues = new Map<string, QueueState>();
  readonly #connection = new EventEmitter<BrokerConnectionEvent>();
  readonly #maxQueueLength: number;
  #connected = true;
  #closed = false;

  /** Fires when {@link InMemoryBroker.disconnect} or {@link InMemoryBroker.reconnect} is called. */
  readonly onConnectionChange = this.#connection.event;

  constructor(options: InMemoryBrokerOptions = {}) {
    this.#maxQueueLength = checkNumber('maxQueueLength', options.maxQueueLength, 100_000, {
      integer: true,
      min: 1,
    });
  }

  get connected(): boolean {
    return this.#connected && !this.#closed;
  }

  publish(message: EventEnvelope): Promise<void> {
    if (!this.connected) {
      return Promise.reject(new BrokerUnavailableError('in-process broker is disconnected'));
    }
    let body: string;
    try {
      body = encodeEnvelope(message);
    } catch (error) {
      return Promise.reject(
        new PublishRejectedError('message is not a valid event envelope', { cause: error }),
      );
    }
    const targets = [...this.#queues.values()].filter((q) =>
      [...q.topics].some((t) => topicMatches(t, message.type)),
    );
    const full = targets.find((q) => q.ready.length >= this.#maxQueueLength);
    if (full) return Promise.reject(new PublishRejectedError(`queue ${full.name} is full`));
    for (const queue of targets) {
      queue.ready.push({ body, deliveries: 0 });
      this.#schedule(queue);
    }
    return Promise.resolve();
  }

  #queue(options: SubscribeOptions): QueueState {
    let queue = this.#queues.get(options.queue);
    if (!queue) {
      queue = {
        name: options.queue,
        topics: new Set(),
        ready: [],
        dead: [],
        maxDeliveries: 5,
        consumer: undefined,
      };
      this.#queues.set(options.queue, queue);
    }
    for (const topic of options.topics) queue.topics.add(topic);
    queue.maxDeliveries = checkNumber('maxDeliveries', options.maxDeliveries, 5, { integer: true, min: 1 });
    return queue;
  }

  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Consumer> {
    if (this.#closed) return Promise.reject(new BrokerUnavailableError('in-process broker is closed'));
    let prefetch: number;
    let queue: QueueState;
    try {
      prefetch = checkNumber('prefetch', options.prefetch, 10, { integer: true, min: 1 });
      queue = this.#queue(options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (queue.consumer && !queue.consumer.closed) {
      return Promise.reject(new Error(`queue ${options.queue} already has a consumer`));
    }
    const consumer: ConsumerState = { handler, prefetch, inFlight: 0, closed: false, idle: undefined };
    queue.consumer = consumer;
    this.#schedule(queue);
    return Promise.resolve({
      queue: queue.name,
      close: () => {
        consumer.closed = true;
        if (queue.consumer === consumer) queue.consumer = undefined;
        if (consumer.inFlight === 0) return Promise.resolve();
        return new Promise<void>((resolve) => (consumer.idle = resolve));
      },
    });
  }

  #schedule(queue: QueueState): void {
    queueMicrotask(() => this.#dispatch(queue));
  }

  #dispatch(queue: QueueState): void {
    const consumer = queue.consumer;
    while (consumer && !consumer.closed && this.connected && consumer.inFlight < consumer.prefetch) {
      const stored = queue.ready.shift();
      if (!stored) return;
      stored.deliveries++;
      let message: EventEnvelope;
      try {
        message = decodeEnvelope(stored.body);
      } catch (error) {
        queue.dead.push({
          message: null,
          body: stored.body,
          queue: queue.name,
          reason: 'rejected',
          detail: (error as Error).message,
        });
        continue;
      }
      consumer.inFlight++;
      const delivery: Delivery = {
        message,
        queue: queue.name,
        redelivered: stored.deliveries > 1,
        deliveryCount: stored.deliveries,
      };
      void this.#handle(queue, consumer, stored, delivery);
    }
  }

  async #handle(
    queue: QueueState,
    consumer: ConsumerState,
    stored: Stored,
    delivery: Delivery,
  ): Promise<void> {
    try {
      await consumer.handler(delivery);
    } catch (error) {
      if (isPoisonMessageError(error)) {
        queue.dead.push({
          message: delivery.message,
          body: stored.body,
          queue: queue.name,
          reason: 'rejected',
          detail: error.message,
        });
      } else if (stored.deliveries >= queue.maxDeliveries) {
        queue.dead.push({
          message: delivery.message,
          body: stored.body,
          queue: queue.name,
          reason: 'delivery_limit',
        });
      } else {
        queue.ready.unshift(stored); // requeue at the head, as RabbitMQ does
      }
      if (!isPoisonMessageError(error)) reportError(error, `consumer of ${queue.name} failed`);
    } finally {
      consumer.inFlight--;
      if (consumer.closed && consumer.inFlight === 0) consumer.idle?.();
      this.#schedule(queue);
    }
  }

  takeDeadLetters(queue: string, max = 100): Promise<DeadLetter[]> {
    const dead = this.#queues.get(queue)?.dead ?? [];
    return Promise.resolve(dead.splice(0, max));
  }

  deadLetterDepth(queue: string): Promise<number> {
    return Promise.resolve(this.#queues.get(queue)?.dead.length ?? 0);
  }

  /** Messages ready (not in flight) in `queue`. */
  depth(queue: string): number {
    return this.#queues.get(queue)?.ready.length ?? 0;
  }

  /** Test double: the broker goes away. Publishing rejects and deliveries pause until {@link reconnect}. */
  disconnect(error: unknown = new Error('disconnected')): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#connection.emit({ connected: false, error });
  }

  /** Test double: the broker comes back and deliveries resume. */
  reconnect(): void {
    if (this.#connected || this.#closed) return;
    this.#connected = true;
    this.#connection.emit({ connected: true });
    for (const queue of this.#queues.values()) this.#schedule(queue);
  }

  health(): Promise<void> {
    return this.connected
      ? Promise.resolve()
      : Promise.reject(new BrokerUnavailableError('in-process broker is disconnected'));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#queues.values()].map((q) => {
        const consumer = q.consumer;
        if (!consumer) return Promise.resolve();
        consumer.closed = true;
        return consumer.inFlight === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => (consumer.idle = resolve));
      }),
    );
  }
}
