import type { OutboxRecord } from '../data/repository.js';
import type { EventEnvelope } from './broker.js';
import { PoisonMessageError } from './errors.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Checks that `value` is an {@link EventEnvelope}; throws a `PoisonMessageError` naming the bad field otherwise.
 *
 * @example
 * ```ts
 * import { checkEnvelope } from './events/index.js';
 * const event = checkEnvelope(JSON.parse(text));
 * ```
 */
export function checkEnvelope(value: unknown): EventEnvelope {
  if (!isObject(value)) throw new PoisonMessageError('event envelope is not an object');
  for (const field of ['id', 'type', 'tenantId', 'aggregateType', 'aggregateId'] as const) {
    if (!nonEmpty(value[field])) throw new PoisonMessageError(`event envelope has no \`${field}\` string`);
  }
  if (typeof value.occurredAt !== 'number' || !Number.isFinite(value.occurredAt)) {
    throw new PoisonMessageError('event envelope has no finite `occurredAt`');
  }
  if (!('payload' in value)) throw new PoisonMessageError('event envelope has no `payload`');
  return value as unknown as EventEnvelope;
}

/**
 * Decodes a message body (JSON text or bytes) into an {@link EventEnvelope}; throws a `PoisonMessageError` for a
 * body that is not one.
 *
 * @example
 * ```ts
 * import { decodeEnvelope } from './events/index.js';
 * const event = decodeEnvelope(message.content);
 * ```
 */
export function decodeEnvelope(body: string | Uint8Array): EventEnvelope {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PoisonMessageError('message body is not JSON', { cause: error });
  }
  return checkEnvelope(parsed);
}

/**
 * Serialises an envelope to the JSON text brokers carry (checked first, see {@link checkEnvelope}).
 *
 * @example
 * ```ts
 * import { encodeEnvelope } from './events/index.js';
 * const body = Buffer.from(encodeEnvelope(event));
 * ```
 */
export function encodeEnvelope(message: EventEnvelope): string {
  return JSON.stringify(checkEnvelope(message));
}

/**
 * Builds the envelope of an outbox row; a row whose payload is not JSON is poison (`PoisonMessageError`).
 *
 * @example
 * ```ts
 * import { envelopeFromOutbox } from './events/index.js';
 * const [row] = await repo.claimOutbox({ limit: 1, leaseMs: 30_000 });
 * if (row) await broker.publish(envelopeFromOutbox(row));
 * ```
 */
export function envelopeFromOutbox(record: OutboxRecord): EventEnvelope {
  let payload: unknown;
  try {
    payload = JSON.parse(record.payload);
  } catch (error) {
    throw new PoisonMessageError(`outbox event ${record.id} has a payload that is not JSON`, {
      cause: error,
    });
  }
  return checkEnvelope({
    id: record.id,
    type: record.type,
    tenantId: record.tenantId,
    aggregateType: record.aggregateType,
    aggregateId: record.aggregateId,
    occurredAt: record.createdAt,
    payload,
  });
}
