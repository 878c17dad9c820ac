import type { EventEnvelope } from './broker.js';
import { PoisonMessageError } from './errors.js';
import { eventSchemas, type EventSchemaRegistry } from './schemas.js';

/**
 * Lifts the payload of one event type from version `from` to `from + 1`. It reads the old payload as it was written
 * (fields it does not know are kept) and returns the new one; it must not fail on a payload valid under `from`.
 */
export interface Upcaster {
  readonly type: string;
  readonly from: number;
  up(payload: Readonly<Record<string, unknown>>, envelope: EventEnvelope): Record<string, unknown>;
}

const DECLINED = 'declined: ';
const UNAVAILABLE = 'unavailable: ';

/**
 * RetailFlow's upcasters, one per version step that is not backward compatible (the compatibility gate in
 * `npm test` fails a new version without one).
 *
 * - `order.payment_failed` v1 → v2: v2 adds `failure: { kind, detail }`, the cause v1 carried only as a prefix of
 *   `reason` (`declined: …` or `unavailable: …`). A v1 reason without a known prefix (or none) lifts to
 *   `unavailable`: the order was not charged and a new attempt may succeed.
 *
 * @example
 * ```ts
 * import { UPCASTERS, upcast } from './events/index.js';
 * const current = upcast(event, { upcasters: UPCASTERS }); // payload at the newest version
 * ```
 */
export const UPCASTERS: readonly Upcaster[] = [
  {
    type: 'order.payment_failed',
    from: 1,
    up(payload) {
      if (isFailure(payload.failure)) return { ...payload };
      const reason = typeof payload.reason === 'string' ? payload.reason : '';
      const failure = reason.startsWith(DECLINED)
        ? { kind: 'declined', detail: reason.slice(DECLINED.length) }
        : {
            kind: 'unavailable',
            detail: reason.startsWith(UNAVAILABLE) ? reason.slice(UNAVAILABLE.length) : reason,
          };
      return { ...payload, failure };
    },
  },
];

function isFailure(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const f = value as Record<string, unknown>;
  return (f.kind === 'declined' || f.kind === 'unavailable') && typeof f.detail === 'string';
}

/** Options of {@link upcast}. */
export interface UpcastOptions {
  /** @default eventSchemas() (the files under examples/retailflow/events/schemas) */
  readonly registry?: EventSchemaRegistry;
  /** @default UPCASTERS */
  readonly upcasters?: readonly Upcaster[];
  /** The version to lift to. @default the newest version of the event's type in the registry */
  readonly to?: number;
}

/**
 * Lifts `event` to the newest schema version of its type (or `to`), applying the upcasters step by step; a step
 * without an upcaster is backward compatible and keeps the payload as is. Throws a `PoisonMessageError` — so a
 * consumer dead-letters the message with the reason instead of crashing — when the event's version is newer than
 * this code knows (deploy the reader first, then replay the dead letters), when its type has no schema, or when
 * its payload is not an object.
 *
 * @example
 * ```ts
 * import { upcast } from './events/index.js';
 * const event = upcast(delivery.message); // e.g. order.payment_failed v1 → v2
 * ```
 */
export function upcast(event: EventEnvelope, options: UpcastOptions = {}): EventEnvelope {
  const registry = options.registry ?? eventSchemas();
  const upcasters = options.upcasters ?? UPCASTERS;
  const latest = registry.latest(event.type);
  if (latest === undefined) {
    throw new PoisonMessageError(`event ${event.id}: no schema for event type ${event.type}`);
  }
  const target = options.to ?? latest;
  const version = event.schemaVersion ?? 1;
  if (version > target) {
    throw new PoisonMessageError(
      `event ${event.id}: ${event.type} schema version ${version} is newer than this reader knows (v${target}); ` +
        'deploy a reader that knows it, then replay the dead letter',
    );
  }
  if (version === target)
    return event.schemaVersion === version ? event : { ...event, schemaVersion: version };
  if (typeof event.payload !== 'object' || event.payload === null || Array.isArray(event.payload)) {
    throw new PoisonMessageError(`event ${event.id}: ${event.type} payload is not an object`);
  }
  let payload = event.payload as Record<string, unknown>;
  for (let from = version; from < target; from++) {
    const step = upcasters.find((u) => u.type === event.type && u.from === from);
    if (step) payload = step.up(payload, event);
  }
  return { ...event, schemaVersion: target, payload };
}
