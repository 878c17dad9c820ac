export type {
  Broker,
  BrokerConnectionEvent,
  Consumer,
  DeadLetter,
  Delivery,
  EventEnvelope,
  MessageHandler,
  SubscribeOptions,
} from './broker.js';
export {
  BrokerUnavailableError,
  PoisonMessageError,
  PublishRejectedError,
  isBrokerUnavailableError,
  isPoisonMessageError,
  isPublishRejectedError,
} from './errors.js';
export type { EnvelopeFromOutboxOptions } from './envelope.js';
export { checkEnvelope, decodeEnvelope, encodeEnvelope, envelopeFromOutbox } from './envelope.js';
export type { EventSchemaFile, SchemaCheck } from './schemas.js';
export { DEFAULT_SCHEMA_DIR, EventSchemaRegistry, eventSchemas, readSchemaFiles } from './schemas.js';
export type { RegistryGateInput, RegistryProblem, SchemaBreak } from './compatibility.js';
export { backwardBreaks, checkSchemaRegistry } from './compatibility.js';
export type { UpcastOptions, Upcaster } from './upcasters.js';
export { UPCASTERS, upcast } from './upcasters.js';
export { topicMatches } from './topic.js';
export type { InMemoryBrokerOptions } from './in-memory-broker.js';
export { InMemoryBroker } from './in-memory-broker.js';
export type {
  OutboxRelayOptions,
  RelayBackoff,
  RelayBatchResult,
  RelayDeadLetteredEvent,
  RelayFailedEvent,
  RelayLeadershipEvent,
  RelayLeadershipLock,
  RelayOutageEvent,
  RelayPublishedEvent,
} from './outbox-relay.js';
export { OutboxRelay, exponentialRelayBackoff } from './outbox-relay.js';
export type {
  FulfilmentConsumerOptions,
  FulfilmentCounts,
  FulfilmentProcessedEvent,
  FulfilmentRejectedEvent,
} from './fulfilment-consumer.js';
export { FulfilmentConsumer } from './fulfilment-consumer.js';
export type { RabbitMqBrokerOptions } from './rabbitmq-broker.js';
export { RabbitMqBroker } from './rabbitmq-broker.js';
