import { brand, hasBrand } from '@ballast/core';

const poisonBrand = Symbol.for('ballast.retailflow.PoisonMessageError');
const unavailableBrand = Symbol.for('ballast.retailflow.BrokerUnavailableError');
const rejectedBrand = Symbol.for('ballast.retailflow.PublishRejectedError');

/**
 * Thrown by a message handler (or the relay) for a message that can never be processed: it is dead-lettered at
 * once instead of being retried.
 *
 * @example
 * ```ts
 * import { PoisonMessageError } from './events/index.js';
 * throw new PoisonMessageError('order id missing from payload');
 * ```
 */
export class PoisonMessageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PoisonMessageError';
    brand(this, poisonBrand);
  }
}

/**
 * True for a {@link PoisonMessageError}, from any copy of the module.
 *
 * @example
 * ```ts
 * if (isPoisonMessageError(error)) console.warn(error.message);
 * ```
 */
export function isPoisonMessageError(error: unknown): error is PoisonMessageError {
  return hasBrand(error, poisonBrand);
}

/**
 * The broker cannot be reached: nothing was published. The relay backs off without counting an attempt against
 * the event, so an outage never dead-letters healthy events.
 *
 * @example
 * ```ts
 * import { isBrokerUnavailableError } from './events/index.js';
 * try { await broker.publish(event); } catch (e) { if (isBrokerUnavailableError(e)) console.log('broker down'); }
 * ```
 */
export class BrokerUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokerUnavailableError';
    brand(this, unavailableBrand);
  }
}

/**
 * True for a {@link BrokerUnavailableError}, from any copy of the module.
 *
 * @example
 * ```ts
 * if (isBrokerUnavailableError(error)) console.warn(error.message);
 * ```
 */
export function isBrokerUnavailableError(error: unknown): error is BrokerUnavailableError {
  return hasBrand(error, unavailableBrand);
}

/**
 * The broker refused the message (negative confirm, unroutable, too large): the relay counts an attempt.
 *
 * @example
 * ```ts
 * import { PublishRejectedError } from './events/index.js';
 * throw new PublishRejectedError('nacked by broker');
 * ```
 */
export class PublishRejectedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishRejectedError';
    brand(this, rejectedBrand);
  }
}

/**
 * True for a {@link PublishRejectedError}, from any copy of the module.
 *
 * @example
 * ```ts
 * if (isPublishRejectedError(error)) console.warn(error.message);
 * ```
 */
export function isPublishRejectedError(error: unknown): error is PublishRejectedError {
  return hasBrand(error, rejectedBrand);
}
