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
