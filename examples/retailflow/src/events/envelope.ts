import type { OutboxRecord } from '../data/repository.js';
import type { EventEnvelope } from './broker.js';
import { PoisonMessageError } from './errors.js';
import { eventSchemas, type EventSchemaRegistry } from './schemas.js';
import { upcast, type Upcaster } from './upcasters.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Checks that `value` is an {@link EventEnvelope}; throws a `PoisonMessageError` naming the bad field otherwise.
 * An envelope without `schemaVersion` (written before events were versioned) is read as version 1; the envelope
 * returned always carries it.
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
  const version = value.schemaVersion;
  if (version === undefined) return { ...(value as unknown as EventEnvelope), schemaVersion: 1 };
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new PoisonMessageError(
      `event envelope has a \`schemaVersion\` that is not a positive integer: ${JSON.stringify(version)}`,
    );
  }
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

/** Options of {@link envelopeFromOutbox}. */
export interface EnvelopeFromOutboxOptions {
  /** The schemas the payload is checked against. @default eventSchemas() */
  readonly registry?: EventSchemaRegistry;
  /** @default UPCASTERS */
  readonly upcasters?: readonly Upcaster[];
}

/**
 * Builds the envelope the relay publishes for an outbox row: the payload, written at the row's `schemaVersion`
 * (version 1 when the row does not say), is lifted to the newest version of its type ({@link upcast}) and checked
 * against that version's schema, so only events that match a published schema leave the service. A row whose
 * payload is not JSON, whose type has no schema or whose payload does not match is poison (`PoisonMessageError`,
 * with the fields that do not match): the relay dead-letters it in the outbox with that message.
 *
 * @example
 * ```ts
 * import { envelopeFromOutbox } from './events/index.js';
 * const [row] = await repo.claimOutbox({ limit: 1, leaseMs: 30_000 });
 * if (row) await broker.publish(envelopeFromOutbox(row));
 * ```
 */
export function envelopeFromOutbox(
  record: OutboxRecord & { readonly schemaVersion?: number },
  options: EnvelopeFromOutboxOptions = {},
): EventEnvelope {
  let payload: unknown;
  try {
    payload = JSON.parse(record.payload);
  } catch (error) {
    throw new PoisonMessageError(`outbox event ${record.id} has a payload that is not JSON`, {
      cause: error,
    });
  }
  const registry = options.registry ?? eventSchemas();
  const written = checkEnvelope({
    id: record.id,
    type: record.type,
    schemaVersion: record.schemaVersion ?? 1,
    tenantId: record.tenantId,
    aggregateType: record.aggregateType,
    aggregateId: record.aggregateId,
    occurredAt: record.createdAt,
    payload,
  });
  const version = written.schemaVersion ?? 1;
  const before = registry.validate(written.type, version, payload);
  if (!before.ok) {
    throw new PoisonMessageError(
      `outbox event ${record.id}: ${record.type} v${version} does not match its schema: ${before.errors.join('; ')}`,
    );
  }
  const envelope = upcast(written, {
    registry,
    ...(options.upcasters ? { upcasters: options.upcasters } : {}),
  });
  if (envelope.schemaVersion !== version) {
    const after = registry.validate(envelope.type, envelope.schemaVersion ?? 1, envelope.payload);
    if (!after.ok) {
      throw new PoisonMessageError(
        `outbox event ${record.id}: ${record.type} lifted to v${envelope.schemaVersion} does not match its schema: ` +
          after.errors.join('; '),
      );
    }
  }
  return envelope;
}
