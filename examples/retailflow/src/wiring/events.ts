import { reportError, type Clock } from '@ballast/core';
import type { RetailFlowConfig } from '../config.js';
import type { Repository } from '../data/index.js';
import { FulfilmentConsumer, InMemoryBroker, OutboxRelay, type Broker } from '../events/index.js';
import type { RetailFlowSlos } from './slo.js';
import type { RetailFlowTelemetry } from './telemetry.js';

/** The event side of a running RetailFlow: broker, outbox relay and the fulfilment consumer. */
export interface RetailFlowEvents {
  readonly broker: Broker;
  readonly brokerKind: Broker['kind'];
  readonly relay: OutboxRelay;
  readonly fulfilment: FulfilmentConsumer;
  /** Resolves when the broker answers (for `/readyz`). */
  health(): Promise<void>;
  /** Stops the relay after its current batch, then the consumer (waiting for its handlers), then the broker. */
  close(): Promise<void>;
}

/**
 * Starts the event pipeline: the in-process broker (or RabbitMQ with `AMQP_URL`), the transactional-outbox relay
 * publishing with confirms, and the idempotent fulfilment consumer. Every confirmed publish feeds the
 * order-event-freshness SLO and `retailflow_outbox_lag_seconds` with its outbox lag.
 */
export async function startEvents(options: {
  readonly config: RetailFlowConfig;
  readonly clock: Clock;
  readonly repo: Repository;
  readonly slos: RetailFlowSlos;
  readonly telemetry: RetailFlowTelemetry;
  readonly random?: () => number;
  readonly amqpPrefix?: string | undefined;
}): Promise<RetailFlowEvents> {
  const { clock, repo, slos, telemetry } = options;
  const broker = await openBroker(options.config, options.amqpPrefix);
  const fulfilment = new FulfilmentConsumer({
    broker,
    store: repo,
    queue: `${options.amqpPrefix ?? 'retailflow'}.fulfilment`,
  });
  try {
    await fulfilment.start();
  } catch (error) {
    await broker.close().catch(() => undefined);
    throw error;
  }
  const relay = new OutboxRelay({
    store: repo,
    broker,
    clock,
    ...(options.random ? { random: options.random } : {}),
  });
  relay.onPublished((e) => {
    slos.recordDelivery(e.lagMs);
    telemetry.recordOutboxLag(e.lagMs);
  });
  relay.onDeadLettered((e) =>
    reportError(e.error, `outbox event ${e.id} (${e.type}) dead-lettered: ${e.reason}`),
  );
  telemetry.readEventGauges(async () => ({
    outboxDepth: (await repo.outboxStats()).depth,
    dlq: { [fulfilment.queue]: await broker.deadLetterDepth(fulfilment.queue) },
  }));
  relay.start();

  return {
    broker,
    brokerKind: broker.kind,
    relay,
    fulfilment,
    health: () => broker.health(),
    async close() {
      await relay.stop();
      await fulfilment.stop();
      await broker.close();
    },
  };
}

function openBroker(config: RetailFlowConfig, prefix: string | undefined): Promise<Broker> {
  if (config.amqpUrl === undefined) return Promise.resolve(new InMemoryBroker());
  void prefix;
  return Promise.reject(new Error('AMQP_URL is set but the RabbitMQ broker is not wired yet'));
}
