import { AsyncLocalStorage } from 'node:async_hooks';
import type { Deadline } from './Deadline.js';

let storage: AsyncLocalStorage<Deadline | undefined> | undefined;

/**
 * Runs `fn` with `deadline` as the ambient deadline, so policies deep in the call tree see it without it being
 * passed by hand (and a timeout policy's tighter deadline becomes ambient inside the calls it wraps).
 *
 * Opt-in on purpose: on Node 20 the first `AsyncLocalStorage.run` turns on promise hooks for the whole process,
 * which we measured to make every `await` about 2.5 times slower. Passing `ctx.deadline` explicitly costs nothing.
 *
 * @example
 * ```ts
 * import { runWithDeadline, readDeadlineHeader } from '@ballast/resilience';
 * app.use((req, _res, next) => runWithDeadline(readDeadlineHeader(req.headers), next));
 * ```
 */
export function runWithDeadline<R>(deadline: Deadline | undefined, fn: () => R): R {
  storage ??= new AsyncLocalStorage();
  return storage.run(deadline, fn);
}

/**
 * The ambient deadline set by {@link runWithDeadline}, or `undefined` (always `undefined` until
 * `runWithDeadline` was first called).
 *
 * @example
 * ```ts
 * const remaining = currentDeadline()?.remainingMs();
 * ```
 */
export function currentDeadline(): Deadline | undefined {
  return storage?.getStore();
}

/** Internal: true once ambient deadlines are in use, so the hot path can skip them otherwise. */
export function ambientEnabled(): boolean {
  return storage !== undefined;
}
