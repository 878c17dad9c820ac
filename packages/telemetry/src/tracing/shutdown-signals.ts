import { type Subscription, reportError } from '@ballast/core';

/** The parts of `process` the signal hookup uses (a test passes an `EventEmitter` with these). */
export interface SignalTarget {
  readonly pid: number;
  once(signal: NodeJS.Signals, listener: () => void): unknown;
  removeListener(signal: NodeJS.Signals, listener: () => void): unknown;
  listenerCount(signal: NodeJS.Signals): number;
  kill(pid: number, signal: NodeJS.Signals): unknown;
}

/** Options for {@link onShutdownSignal}. */
export interface ShutdownSignalOptions {
  /**
   * Signals that trigger the shutdown.
   * @default ['SIGTERM', 'SIGINT']
   * @example
   * ```ts
   * startTelemetry({ handleSignals: { signals: ['SIGTERM'] } });
   * ```
   */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Where signals come from.
   * @default process
   * @example
   * ```ts
   * onShutdownSignal(shutdown, { target: fakeProcess });
   * ```
   */
  readonly target?: SignalTarget;
}

/**
 * Runs `shutdown` once on the first of `signals`, then, when nothing else listens for that signal, re-raises it so
 * the process ends the way it would have without Ballast (a listener on SIGTERM otherwise keeps Node alive). When
 * the application has its own listener, ending the process is left to it.
 *
 * @example
 * ```ts
 * import { onShutdownSignal } from '@ballast/telemetry';
 * const hook = onShutdownSignal(() => telemetry.shutdown());
 * // hook.dispose() removes the listeners
 * ```
 */
export function onShutdownSignal(
  shutdown: () => Promise<void>,
  options: ShutdownSignalOptions = {},
): Subscription {
  const target: SignalTarget = options.target ?? process;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const listeners = new Map<NodeJS.Signals, () => void>();
  const remove = () => {
    for (const [signal, listener] of listeners) target.removeListener(signal, listener);
    listeners.clear();
  };
  for (const signal of signals) {
    const listener = () => {
      remove();
      shutdown()
        .catch((error: unknown) => reportError(error, `telemetry shutdown on ${signal}`))
        .finally(() => {
          if (target.listenerCount(signal) === 0) target.kill(target.pid, signal);
        });
    };
    listeners.set(signal, listener);
    target.once(signal, listener);
  }
  return { dispose: remove };
}
