/** A function that receives events of type `T`. */
export type Listener<T> = (event: T) => void;

/** Returned by a subscription; call `dispose()` to stop listening. */
export interface Subscription {
  dispose(): void;
}

/**
 * A subscribable event: call it with a listener, get a {@link Subscription} back.
 *
 * @example
 * ```ts
 * import { EventEmitter } from '@ballast/core';
 * const changed = new EventEmitter<{ to: string }>();
 * const sub = changed.event((e) => console.log(e.to));
 * changed.emit({ to: 'open' });
 * sub.dispose();
 * ```
 */
export type Event<T> = (listener: Listener<T>) => Subscription;

/** Receives errors that Ballast must not throw into the caller's path (listener and instrumentation failures). */
export type ErrorHandler = (error: unknown, context: string) => void;

const defaultErrorHandler: ErrorHandler = (error, context) => {
  const message = error instanceof Error ? error.message : String(error);
  process.emitWarning(`${context}: ${message}`, { code: 'BALLAST_INTERNAL' });
};

let errorHandler: ErrorHandler = defaultErrorHandler;

/**
 * Sets where Ballast reports errors it swallows to protect the caller (a listener that threw, a metric that
 * could not be recorded). The default emits a process warning with code `BALLAST_INTERNAL`.
 * Returns the previous handler.
 *
 * @example
 * ```ts
 * import { setErrorHandler } from '@ballast/core';
 * setErrorHandler((error, context) => console.error('ballast', context, error));
 * ```
 */
export function setErrorHandler(handler: ErrorHandler | undefined): ErrorHandler {
  const previous = errorHandler;
  errorHandler = handler ?? defaultErrorHandler;
  return previous;
}

/** Reports an error through the handler set with {@link setErrorHandler}; never throws. */
export function reportError(error: unknown, context: string): void {
  try {
    errorHandler(error, context);
  } catch {
    // The handler itself failed: there is nowhere left to report to, and the caller must not see it.
  }
}

/**
 * A typed event source. Emitting with no listener costs one property check, so a policy can guard expensive
 * event construction behind {@link EventEmitter.hasListeners}. A listener that throws is reported through
 * {@link reportError} and never reaches the code that emitted.
 *
 * @example
 * ```ts
 * import { EventEmitter } from '@ballast/core';
 * const retried = new EventEmitter<{ attempt: number }>();
 * retried.event(({ attempt }) => console.log('retry', attempt));
 * if (retried.hasListeners) retried.emit({ attempt: 1 });
 * ```
 */
export class EventEmitter<T> {
  #listeners: Listener<T>[] | undefined;

  /** Subscribe to this emitter. */
  readonly event: Event<T> = (listener) => {
    (this.#listeners ??= []).push(listener);
    return {
      dispose: () => {
        if (!this.#listeners) return;
        const i = this.#listeners.indexOf(listener);
        if (i >= 0) this.#listeners.splice(i, 1);
        if (this.#listeners.length === 0) this.#listeners = undefined;
      },
    };
  };

  /** True when at least one listener is subscribed. */
  get hasListeners(): boolean {
    return this.#listeners !== undefined;
  }

  /** Delivers `value` to every listener, in subscription order. */
  emit(value: T): void {
    const listeners = this.#listeners;
    if (!listeners) return;
    if (listeners.length === 1) {
      this.#call(listeners[0]!, value);
      return;
    }
    for (const listener of listeners.slice()) this.#call(listener, value);
  }

  #call(listener: Listener<T>, value: T): void {
    try {
      listener(value);
    } catch (error) {
      reportError(error, 'event listener threw');
    }
  }
}
