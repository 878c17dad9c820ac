import { type Event, EventEmitter, invalidOption } from '@ballast/core';
import type { Policy, PolicyEvent, PolicyKind } from '@ballast/core';

/**
 * What every Ballast policy shares, whether or not it runs calls itself: a `name`, a `kind` and one event stream
 * (`onEvent`) that telemetry subscribes to. Subclasses emit through `events`, guarded by `events.hasListeners` on
 * hot paths so that an unobserved policy builds no event objects.
 */
export abstract class EventedPolicy implements Policy {
  abstract readonly kind: PolicyKind;
  readonly name: string;
  protected readonly events = new EventEmitter<PolicyEvent>();
  /** Subscribes to this policy's events; returns an unsubscribe function. */
  readonly onEvent: Event<PolicyEvent> = this.events.event;

  constructor(name: string) {
    this.name = name;
  }

  /** Emits `success` or `failure` (call only when `events.hasListeners`). */
  protected emitOutcome(durationMs: number, error: unknown, failed: boolean, counted = true): void {
    this.events.emit(
      failed
        ? { policy: this.name, kind: this.kind, type: 'failure', durationMs, error, counted }
        : { policy: this.name, kind: this.kind, type: 'success', durationMs },
    );
  }
}

/**
 * The `name` option of a policy: `value`, or `fallback` when it is undefined. Throws the option template's
 * `TypeError` for anything but a non-empty string.
 */
export function policyName(value: unknown, fallback: string): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || name === '') throw invalidOption('name', 'a non-empty string', value);
  return name;
}
