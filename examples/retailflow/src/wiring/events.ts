import { reportError, type Clock } from '@ballast/core';
import { LeaseLock } from '@ballast/resilience';
import type { RetailFlowConfig } from '../config.js';
import type { Repository } from '../data/index.js';
import {
  FulfilmentConsumer,
  InMemoryBroker,
  OutboxRelay,
  RabbitMqBroker,
  type Broker,
} from '../events/index.js';
import type { RetailFlowSlos } from './slo.js';
import { withStorageChaos } from './storage-chaos.js';
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
  /** Prefix of the exchange and queue names. */
  readonly namespace: string;
  /**
   * Runs the relay's reads and marks of the outbox table (the relay chaos switch of `/admin/chaos`); the lease, the
   * consumer and the outbox gauges use the store directly. @default no chaos
   */
  readonly relayChaos?: <T>(work: () => Promise<T>) => Promise<T>;
}): Promise<RetailFlowEvents> {
  const { clock, repo, slos, telemetry } = options;
  const prefix = options.namespace;
  const broker = await openBroker(options.config, prefix, clock, options.random);
  const fulfilment = new FulfilmentConsumer({
    broker,
    store: repo,
    queue: `${prefix}.fulfilment`,
  });
  fulfilment.onRejected((e) =>
    reportError(
      new Error(e.reason),
      `event ${e.eventId} (${e.type} v${e.schemaVersion}) dead-lettered by ${fulfilment.queue}`,
    ),
  );
  try {
    await fulfilment.start();
  } catch (error) {
    await broker.close().catch(() => undefined);
    throw error;
  }
  // One relay per namespace publishes at a time: the leader holds a lease in the same database as the outbox, and
  // its fencing token is checked when it claims and when it marks events published.
  const leadership = new LeaseLock({
    store: repo.relayLeases,
    key: `${prefix}.outbox-relay`,
    leaseMs: 10_000,
    clock,
  });
  const relay = new OutboxRelay({
    store: options.relayChaos ? withStorageChaos(repo, options.relayChaos) : repo,
    broker,
    clock,
    leadership,
    ...(options.random ? { random: options.random } : {}),
  });
  relay.onPublished((e) => {
    slos.recordDelivery(e.lagMs);
    telemetry.recordOutboxLag(e.lagMs);
  });
  // A relay that cannot read its table or reach the broker publishes nothing: on-call finds why in the log (the
  // swallowed-error logger keeps it to a few lines a minute), the `outbox relay` lines the runbooks read.
  relay.onOutage((e) =>
    reportError(e.error, `outbox relay cannot reach the ${e.source === 'store' ? 'database' : 'broker'}`),
  );
  relay.onDeadLettered((e) =>
    reportError(e.error, `outbox event ${e.id} (${e.type}) dead-lettered: ${e.reason}`),
  );
  telemetry.readEventGauges({
    outboxDepth: async () => (await repo.outboxStats()).depth,
    outboxOldestAgeMs: async () => (await repo.outboxStats()).lagMs,
    dlq: async () => ({ [fulfilment.queue]: await broker.deadLetterDepth(fulfilment.queue) }),
  });
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

/**
 * The in-process broker, or RabbitMQ with `AMQP_URL`. RabbitMQ being down at start-up does not stop the service:
 * the broker keeps reconnecting in the background, orders keep their events in the outbox, and `/readyz` says so.
 */
async function openBroker(
  config: RetailFlowConfig,
  prefix: string,
  clock: Clock,
  random: (() => number) | undefined,
): Promise<Broker> {
  if (config.amqpUrl === undefined) return new InMemoryBroker();
  const broker = new RabbitMqBroker({
    url: config.amqpUrl,
    exchange: `${prefix}.events`,
    clock,
    ...(random ? { random } : {}),
  });
  const connected = await broker.start();
  if (!connected) reportError(new Error('RabbitMQ unreachable at start-up'), 'retailflow: broker (retrying)');
  return broker;
}
