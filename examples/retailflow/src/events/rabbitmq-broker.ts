import {
  EventEmitter,
  checkNumber,
  invalidOption,
  reportError,
  systemClock,
  type Clock,
  type TimerHandle,
} from '@ballast/core';
import amqp from 'amqplib';
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
import { exponentialRelayBackoff, type RelayBackoff } from './outbox-relay.js';

/** Options of {@link RabbitMqBroker}. */
export interface RabbitMqBrokerOptions {
  /** `amqp://user:pass@host:port/vhost` (`AMQP_URL`). */
  readonly url: string;
  /** Durable topic exchange events are published to; its dead-letter exchange is `<exchange>.dlx`. @default 'retailflow.events' */
  readonly exchange?: string;
  /** Drives reconnect delays and confirm timeouts. @default systemClock */
  readonly clock?: Clock;
  /** Delay before reconnect attempt `n`. @default 250 ms doubling to 10 s, equal jitter */
  readonly reconnectBackoff?: RelayBackoff;
  /** A publish with no confirm after this long rejects as unavailable. @default 10000 */
  readonly confirmTimeoutMs?: number;
  /** A connection attempt that has not completed the AMQP handshake after this long fails. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** AMQP heartbeat, so a dead peer is noticed. @default 10 */
  readonly heartbeatSeconds?: number;
  /** @default Math.random */
  readonly random?: () => number;
}

interface Subscription {
  readonly options: SubscribeOptions;
  readonly prefetch: number;
  readonly maxDeliveries: number;
  readonly handler: MessageHandler;
  channel: amqp.Channel | undefined;
  consumerTag: string | undefined;
  readonly inFlight: Set<Promise<void>>;
  closed: boolean;
}

/**
 * The RabbitMQ broker (amqplib). Publishes persistent messages to a durable topic exchange on a confirm channel
 * and resolves only on the broker's ack. Each subscription is a durable quorum queue with a dead-letter exchange
 * (`x-dead-letter-exchange` → `<queue>.dlq`) and `x-delivery-limit`, consumed on its own channel with a prefetch
 * and manual acks: success acks, a `PoisonMessageError` (or an undecodable body) goes straight to the DLQ — republished
 * there with the reason in the `x-ballast-dead-letter-reason` header and then acked (a plain nack without requeue
 * when that publish is not confirmed) — and other errors nack with requeue until the delivery limit dead-letters
 * the message.
 *
 * When the connection drops it reconnects with backoff, redeclares the topology and resumes every consumer;
 * meanwhile `publish` rejects at once with a `BrokerUnavailableError` (the outbox relay keeps the events).
 *
 * @example
 * ```ts
 * import { RabbitMqBroker } from './events/index.js';
 * const broker = new RabbitMqBroker({ url: process.env.AMQP_URL! });
 * await broker.start(); // false when RabbitMQ is down: it keeps retrying in the background
 * ```
 */
export class RabbitMqBroker implements Broker {
  readonly kind = 'rabbitmq' as const;
  readonly exchange: string;
  readonly deadLetterExchange: string;
  readonly #url: string;
  readonly #clock: Clock;
  readonly #backoff: RelayBackoff;
  readonly #confirmTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #random: () => number;
  readonly #subs = new Map<string, Subscription>();
  readonly #connection = new EventEmitter<BrokerConnectionEvent>();

  #model: amqp.ChannelModel | undefined;
  #publisher: amqp.ConfirmChannel | undefined;
  #connecting: Promise<boolean> | undefined;
  #reconnectTimer: TimerHandle | undefined;
  #attempt = 0;
  #lastDelay = 0;
  #started = false;
  #closed = false;

  /** Fires when the connection is lost or (re)established. */
  readonly onConnectionChange = this.#connection.event;

  constructor(options: RabbitMqBrokerOptions) {
    if (typeof options?.url !== 'string' || !/^amqps?:\/\//.test(options.url)) {
      throw invalidOption('url', 'an amqp:// or amqps:// URL', options?.url);
    }
    const heartbeat = checkNumber('heartbeatSeconds', options.heartbeatSeconds, 10, {
      integer: true,
      min: 0,
    });
    this.#url = options.url.includes('heartbeat=')
      ? options.url
      : `${options.url}${options.url.includes('?') ? '&' : '?'}heartbeat=${heartbeat}`;
    this.exchange = options.exchange ?? 'retailflow.events';
    this.deadLetterExchange = `${this.exchange}.dlx`;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.reconnectBackoff ?? exponentialRelayBackoff(250, 10_000);
    this.#confirmTimeoutMs = checkNumber('confirmTimeoutMs', options.confirmTimeoutMs, 10_000, { above: 0 });
    this.#connectTimeoutMs = checkNumber('connectTimeoutMs', options.connectTimeoutMs, 5_000, { above: 0 });
    this.#random = options.random ?? Math.random;
  }

  get connected(): boolean {
    return this.#publisher !== undefined;
  }

  /**
   * Connects (first attempt) and keeps the connection up from then on. Resolves `true` when connected, `false`
   * when the first attempt failed (reconnection continues in the background; watch `onConnectionChange`).
   */
  start(): Promise<boolean> {
    if (this.#closed) return Promise.reject(new BrokerUnavailableError('RabbitMQ broker is closed'));
    this.#started = true;
    return this.#connectNow();
  }

  /** Resolves once connected (or immediately when already connected). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve) => {
      const sub = this.onConnectionChange((e) => {
        if (e.connected) {
          sub.dispose();
          resolve();
        }
      });
    });
  }

  #connectNow(): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    this.#connecting ??= this.#connect()
      .then(
        () => {
          this.#attempt = 0;
          this.#lastDelay = 0;
          return true;
        },
        (error: unknown) => {
          this.#scheduleReconnect(error);
          return false;
        },
      )
      .finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  #scheduleReconnect(error: unknown): void {
    if (this.#closed || !this.#started || this.#reconnectTimer !== undefined) return;
    this.#attempt++;
    const delay = this.#backoff.delayMs(this.#attempt, this.#lastDelay, this.#random);
    this.#lastDelay = delay;
    if (this.#attempt === 1) reportError(error, 'RabbitMQ connection failed; reconnecting');
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#connectNow();
    }, delay);
  }

  async #connect(): Promise<void> {
    const model = await amqp.connect(this.#url, { timeout: this.#connectTimeoutMs });
    let lastError: unknown;
    model.on('error', (error: unknown) => (lastError = error));
    model.on('close', () => this.#lost(model, lastError ?? new Error('connection closed')));
    try {
      const publisher = await model.createConfirmChannel();
      publisher.on('error', (error: unknown) => (lastError = error));
      // A publisher channel closed by the server (not with the connection) leaves the broker unusable: start over.
      publisher.on('close', () => {
        if (this.#publisher === publisher) void model.close().catch(() => undefined);
      });
      await publisher.assertExchange(this.exchange, 'topic', { durable: true });
      await publisher.assertExchange(this.deadLetterExchange, 'direct', { durable: true });
      if (this.#closed) throw new BrokerUnavailableError('RabbitMQ broker was closed while connecting');
      this.#model = model;
      this.#publisher = publisher;
      for (const sub of this.#subs.values()) if (!sub.closed) await this.#startConsumer(sub);
    } catch (error) {
      this.#model = undefined;
      this.#publisher = undefined;
      await model.close().catch(() => undefined);
      throw error;
    }
    this.#connection.emit({ connected: true });
  }

  #lost(model: amqp.ChannelModel, error: unknown): void {
    if (this.#model !== model) return;
    this.#model = undefined;
    this.#publisher = undefined;
    for (const sub of this.#subs.values()) {
      sub.channel = undefined;
      sub.consumerTag = undefined;
    }
    this.#connection.emit({ connected: false, error });
    this.#scheduleReconnect(error);
  }

  async #declare(channel: amqp.Channel, sub: Subscription): Promise<void> {
    const queue = sub.options.queue;
    const dlq = `${queue}.dlq`;
    await channel.assertQueue(dlq, { durable: true });
    await channel.bindQueue(dlq, this.deadLetterExchange, queue);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': this.deadLetterExchange,
        'x-dead-letter-routing-key': queue,
        // Quorum queues count failed deliveries; after maxDeliveries of them the broker dead-letters the message.
        'x-delivery-limit': sub.maxDeliveries - 1,
      },
    });
    for (const topic of sub.options.topics) await channel.bindQueue(queue, this.exchange, topic);
  }

  async #startConsumer(sub: Subscription): Promise<void> {
    const model = this.#model;
    if (!model) return;
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (sub.channel === channel) sub.channel = undefined;
    });
    await this.#declare(channel, sub);
    await channel.prefetch(sub.prefetch);
    sub.channel = channel;
    const { consumerTag } = await channel.consume(sub.options.queue, (msg) => {
      if (msg) this.#track(sub, this.#deliver(sub, channel, msg));
    });
    sub.consumerTag = consumerTag;
  }

  #track(sub: Subscription, work: Promise<void>): void {
    sub.inFlight.add(work);
    void work.finally(() => sub.inFlight.delete(work));
  }

  async #deliver(sub: Subscription, channel: amqp.Channel, msg: amqp.ConsumeMessage): Promise<void> {
    // Acks on a channel that has gone are moot: the broker redelivers the message on the next connection.
    const settle = (fn: () => void) => {
      try {
        fn();
      } catch {
        /* channel closed */
      }
    };
    const headers = msg.properties.headers ?? {};
    const previous = Number(headers['x-delivery-count'] ?? 0);
    const deliveryCount = (Number.isFinite(previous) ? previous : 0) + 1;
    let message: EventEnvelope;
    try {
      message = decodeEnvelope(msg.content);
    } catch (error) {
      await this.#deadLetter(sub, channel, msg, (error as Error).message, settle);
      return;
    }
    const delivery: Delivery = {
      message,
      queue: sub.options.queue,
      redelivered: msg.fields.redelivered || deliveryCount > 1,
      deliveryCount,
    };
    try {
      await sub.handler(delivery);
      settle(() => channel.ack(msg));
    } catch (error) {
      if (isPoisonMessageError(error)) {
        await this.#deadLetter(sub, channel, msg, error.message, settle);
      } else {
        reportError(error, `consumer of ${sub.options.queue} failed`);
        settle(() => channel.nack(msg, false, true));
      }
    }
  }

  /**
   * Dead-letters a poison message with the reason: republishes it to the queue's DLQ (through the dead-letter
   * exchange) with `x-ballast-dead-letter-reason`, and acks it once confirmed. Without a confirm (no connection,
   * timeout, refusal) it nacks without requeue, and RabbitMQ dead-letters it without the reason.
   */
  async #deadLetter(
    sub: Subscription,
    channel: amqp.Channel,
    msg: amqp.ConsumeMessage,
    reason: string,
    settle: (fn: () => void) => void,
  ): Promise<void> {
    const publisher = this.#publisher;
    if (publisher) {
      const confirmed = await new Promise<boolean>((resolve) => {
        const timer = this.#clock.setTimeout(() => resolve(false), this.#confirmTimeoutMs);
        try {
          publisher.publish(
            this.deadLetterExchange,
            sub.options.queue,
            msg.content,
            {
              ...msg.properties,
              persistent: true,
              headers: {
                ...(msg.properties.headers ?? {}),
                'x-ballast-dead-letter-reason': reason.slice(0, 1024),
              },
            },
            (error: unknown) => {
              this.#clock.clearTimeout(timer);
              resolve(error === null || error === undefined);
            },
          );
        } catch {
          this.#clock.clearTimeout(timer);
          resolve(false);
        }
      });
      if (confirmed) {
        settle(() => channel.ack(msg));
        return;
      }
    }
    settle(() => channel.nack(msg, false, false));
  }

  publish(message: EventEnvelope): Promise<void> {
    const publisher = this.#publisher;
    if (!publisher) return Promise.reject(new BrokerUnavailableError('RabbitMQ is not connected'));
    let body: Buffer;
    try {
      body = Buffer.from(encodeEnvelope(message), 'utf8');
    } catch (error) {
      return Promise.reject(
        new PublishRejectedError('message is not a valid event envelope', { cause: error }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = this.#clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new BrokerUnavailableError(`no publisher confirm within ${this.#confirmTimeoutMs} ms`));
      }, this.#confirmTimeoutMs);
      const done = (error: unknown) => {
        if (settled) return;
        settled = true;
        this.#clock.clearTimeout(timer);
        if (error === null || error === undefined) resolve();
        else if (error instanceof Error && error.message === 'message nacked') {
          reject(
            new PublishRejectedError('RabbitMQ refused the message (negative confirm)', { cause: error }),
          );
        } else {
          reject(
            new BrokerUnavailableError('connection lost before the publisher confirm', { cause: error }),
          );
        }
      };
      try {
        publisher.publish(
          this.exchange,
          message.type,
          body,
          {
            persistent: true,
            contentType: 'application/json',
            messageId: message.id,
            type: message.type,
            timestamp: Math.floor(message.occurredAt / 1000),
            headers: { 'x-tenant-id': message.tenantId, 'x-schema-version': message.schemaVersion ?? 1 },
          },
          done,
        );
      } catch (error) {
        done(new BrokerUnavailableError('RabbitMQ channel is closed', { cause: error }));
      }
    });
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Consumer> {
    if (this.#closed) throw new BrokerUnavailableError('RabbitMQ broker is closed');
    if (typeof options?.queue !== 'string' || options.queue === '') {
      throw invalidOption('queue', 'a non-empty queue name', options?.queue);
    }
    if (this.#subs.has(options.queue)) throw new Error(`queue ${options.queue} already has a consumer`);
    const sub: Subscription = {
      options,
      prefetch: checkNumber('prefetch', options.prefetch, 10, { integer: true, min: 1, max: 65_535 }),
      maxDeliveries: checkNumber('maxDeliveries', options.maxDeliveries, 5, { integer: true, min: 1 }),
      handler,
      channel: undefined,
      consumerTag: undefined,
      inFlight: new Set(),
      closed: false,
    };
    this.#subs.set(options.queue, sub);
    // Connected: declare and consume now (errors reach the caller). Not connected: it starts on reconnect.
    if (this.#model) {
      try {
        await this.#startConsumer(sub);
      } catch (error) {
        this.#subs.delete(options.queue);
        throw error;
      }
    }
    return { queue: options.queue, close: () => this.#closeSub(sub) };
  }

  async #closeSub(sub: Subscription): Promise<void> {
    if (sub.closed) return;
    sub.closed = true;
    if (this.#subs.get(sub.options.queue) === sub) this.#subs.delete(sub.options.queue);
    const channel = sub.channel;
    if (channel && sub.consumerTag) await channel.cancel(sub.consumerTag).catch(() => undefined);
    await Promise.all([...sub.inFlight]);
    if (channel) await channel.close().catch(() => undefined);
    sub.channel = undefined;
  }

  async #withChannel<T>(fn: (channel: amqp.Channel) => Promise<T>): Promise<T> {
    const model = this.#model;
    if (!model) throw new BrokerUnavailableError('RabbitMQ is not connected');
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async takeDeadLetters(queue: string, max = 100): Promise<DeadLetter[]> {
    return this.#withChannel(async (channel) => {
      const out: DeadLetter[] = [];
      while (out.length < max) {
        const msg = await channel.get(`${queue}.dlq`, { noAck: true });
        if (!msg) break;
        const body = msg.content.toString('utf8');
        let message: EventEnvelope | null = null;
        try {
          message = decodeEnvelope(body);
        } catch {
          message = null;
        }
        const headers = msg.properties.headers ?? {};
        const deaths = headers['x-death'] as { reason?: string }[] | undefined;
        const detail = headers['x-ballast-dead-letter-reason'] as unknown;
        out.push({
          message,
          body,
          queue,
          reason: deaths?.[0]?.reason ?? 'rejected',
          ...(typeof detail === 'string' ? { detail } : {}),
        });
      }
      return out;
    });
  }

  async deadLetterDepth(queue: string): Promise<number> {
    return this.#withChannel(async (channel) => {
      try {
        return (await channel.checkQueue(`${queue}.dlq`)).messageCount;
      } catch {
        return 0; // not declared yet
      }
    });
  }

  async health(): Promise<void> {
    if (!this.connected) throw new BrokerUnavailableError('RabbitMQ is not connected');
    await this.#withChannel(async (channel) => {
      await channel.checkExchange(this.exchange);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconnectTimer !== undefined) this.#clock.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    await this.#connecting;
    await Promise.all([...this.#subs.values()].map((sub) => this.#closeSub(sub)));
    const model = this.#model;
    this.#model = undefined;
    this.#publisher = undefined;
    if (model) await model.close().catch(() => undefined);
  }
}
