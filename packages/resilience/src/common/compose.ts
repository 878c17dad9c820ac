import { ambientEnabled, currentDeadline, runWithDeadline } from '../deadline/ambient.js';
import { Call, type ExecuteOptions, type Operation } from './CallContext.js';

/**
 * Internal protocol between policies and `pipeline`. A policy is either a *gate* (synchronous admission before the
 * call and bookkeeping after it: breaker, bulkhead, cooperative timeout) or an *around* policy that owns a loop or
 * a `catch` (retry, fallback, aggressive timeout, chaos). The gates directly inside an around policy are handed to
 * it, so the retry loop enters and leaves them inline: a retry + breaker + bulkhead + timeout pipeline runs as one
 * `async` function, not four.
 */
export interface Gate {
  /**
   * Admits the call and returns a token for {@link Gate.leave}, or a promise of one when the call must wait
   * (a bulkhead queue); throws to refuse the call.
   */
  enter(call: Call): unknown;
  /**
   * Called once per admitted call, innermost gate first, with what the call threw (`failed` true) or nothing.
   * Returns the error to pass outwards (a gate may replace it, e.g. a late abort becomes a timeout error). Must not
   * throw.
   */
  leave(token: unknown, call: Call, error: unknown, failed: boolean): unknown;
}

/** Runs the rest of a pipeline for one call. */
export type Runner = (call: Call, fn: Operation<unknown>) => unknown;

/** One policy's part in a pipeline. `wrap` receives the gates directly inside it and the runner inside those. */
export type Step =
  { readonly gate: Gate } | { readonly wrap: (inner: Runner, gates: readonly Gate[]) => Runner };

/** Key of the method through which a policy gives `pipeline` its {@link Step}. */
export const toStep: unique symbol = Symbol('ballast.toStep');

/** A policy that can take part in a pipeline. */
export interface Composable {
  [toStep](): Step;
}

/** Runs the operation itself (inside the call's deadline when ambient deadlines are in use). */
export const callOperation: Runner = (call, fn) =>
  ambientEnabled() && call.deadline !== currentDeadline()
    ? runWithDeadline(call.deadline, () => fn(call))
    : fn(call);

/** Leaves gates `[0, entered)` innermost first; returns the error to pass outwards. Never throws. */
export function leaveGates(
  gates: readonly Gate[],
  tokens: unknown[],
  entered: number,
  call: Call,
  error: unknown,
  failed: boolean,
): unknown {
  for (let i = entered - 1; i >= 0; i--) error = gates[i]!.leave(tokens[i], call, error, failed);
  return error;
}

/** Enters `gates` and runs `inner` between them; for an around policy that does not inline gates. */
export function fuse(gates: readonly Gate[], inner: Runner): Runner {
  const n = gates.length;
  if (n === 0) return inner;
  if (n === 1) {
    const gate = gates[0]!;
    return async (call, fn) => {
      let token = gate.enter(call);
      if (token instanceof Promise) token = await token;
      let result: unknown;
      try {
        result = await inner(call, fn);
      } catch (thrown) {
        throw gate.leave(token, call, thrown, true);
      }
      gate.leave(token, call, undefined, false);
      return result;
    };
  }
  return async (call, fn) => {
    const tokens = new Array<unknown>(n);
    let entered = 0;
    let result: unknown;
    try {
      for (; entered < n; entered++) {
        let token = gates[entered]!.enter(call);
        if (token instanceof Promise) token = await token;
        tokens[entered] = token;
      }
      result = await inner(call, fn);
    } catch (thrown) {
      throw leaveGates(gates, tokens, entered, call, thrown, true);
    }
    leaveGates(gates, tokens, n, call, undefined, false);
    return result;
  };
}

/** Compiles steps (outermost first) into one runner. */
export function compile(steps: readonly Step[]): Runner {
  let runner = callOperation;
  let gates: Gate[] = [];
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    if ('gate' in step) {
      gates.unshift(step.gate);
    } else {
      runner = step.wrap(runner, gates);
      gates = [];
    }
  }
  return fuse(gates, runner);
}

/** Starts a call: builds its context (with the given or ambient deadline) and runs `runner`. */
export function run<T>(runner: Runner, fn: Operation<T>, options: ExecuteOptions | undefined): Promise<T> {
  const deadline = options?.deadline ?? (ambientEnabled() ? currentDeadline() : undefined);
  const call = new Call(options, deadline);
  try {
    return Promise.resolve(runner(call, fn as Operation<unknown>)) as Promise<T>;
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, unchanged
    return Promise.reject(error);
  }
}
