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

/*
 * enterGates and leaveGates spell out the first four positions instead of looping: each position is then its own
 * call site, which V8 can inline when it always sees the same gate, where one call site in a loop sees every gate
 * kind. Measured on a retry + breaker + bulkhead + timeout pipeline, the loop cost about 35 ns a call more.
 */

/**
 * Enters `gates[from..]` in order, storing tokens. Returns `gates.length` when all are entered, or the index of the
 * first gate that must wait (its promise is in `tokens[index]`; resume with `from = index + 1` once it settles).
 * When a gate throws, leaves the gates this call entered and throws what they return.
 */
export function enterGates(gates: readonly Gate[], call: Call, tokens: unknown[], from: number): number {
  const n = gates.length;
  let i = from;
  let token: unknown;
  try {
    if (i === 0 && i < n) {
      tokens[0] = token = gates[0]!.enter(call);
      if (token instanceof Promise) return 0;
      i = 1;
    }
    if (i === 1 && i < n) {
      tokens[1] = token = gates[1]!.enter(call);
      if (token instanceof Promise) return 1;
      i = 2;
    }
    if (i === 2 && i < n) {
      tokens[2] = token = gates[2]!.enter(call);
      if (token instanceof Promise) return 2;
      i = 3;
    }
    if (i === 3 && i < n) {
      tokens[3] = token = gates[3]!.enter(call);
      if (token instanceof Promise) return 3;
      i = 4;
    }
    for (; i < n; i++) {
      tokens[i] = token = gates[i]!.enter(call);
      if (token instanceof Promise) return i;
    }
    return n;
  } catch (thrown) {
    throw leaveGates(gates, tokens, i, call, thrown, true, from);
  }
}

/** Leaves gates `[from, entered)` innermost first; returns the error to pass outwards. Never throws. */
export function leaveGates(
  gates: readonly Gate[],
  tokens: unknown[],
  entered: number,
  call: Call,
  error: unknown,
  failed: boolean,
  from = 0,
): unknown {
  let i = entered - 1;
  for (; i >= 4 && i >= from; i--) error = gates[i]!.leave(tokens[i], call, error, failed);
  if (i >= 3 && 3 >= from) error = gates[3]!.leave(tokens[3], call, error, failed);
  if (i >= 2 && 2 >= from) error = gates[2]!.leave(tokens[2], call, error, failed);
  if (i >= 1 && 1 >= from) error = gates[1]!.leave(tokens[1], call, error, failed);
  if (i >= 0 && from === 0) error = gates[0]!.leave(tokens[0], call, error, failed);
  return error;
}

/**
 * Enters every gate. Returns `undefined` when all admitted the call at once (the fast path: no promise), or a
 * promise that settles once the gates that made the call wait have admitted it. Either way, on refusal the gates
 * already entered are left, and the error they return is thrown (or rejected).
 */
export function admit(gates: readonly Gate[], call: Call, tokens: unknown[]): Promise<void> | undefined {
  const k = enterGates(gates, call, tokens, 0);
  return k < gates.length ? admitAfterWait(gates, call, tokens, k) : undefined;
}

async function admitAfterWait(
  gates: readonly Gate[],
  call: Call,
  tokens: unknown[],
  k: number,
): Promise<void> {
  const n = gates.length;
  let entered = k;
  try {
    while (k < n) {
      entered = k;
      tokens[k] = await tokens[k];
      entered = k + 1;
      k = enterGates(gates, call, tokens, k + 1);
    }
  } catch (thrown) {
    throw leaveGates(gates, tokens, entered, call, thrown, true);
  }
}

/** Enters every gate, runs `inner` between them, and leaves them with the outcome. */
export async function throughGates(
  gates: readonly Gate[],
  tokens: unknown[],
  inner: Runner,
  call: Call,
  fn: Operation<unknown>,
): Promise<unknown> {
  const waiting = admit(gates, call, tokens);
  if (waiting) await waiting;
  let result: unknown;
  try {
    result = await inner(call, fn);
  } catch (thrown) {
    throw leaveGates(gates, tokens, gates.length, call, thrown, true);
  }
  leaveGates(gates, tokens, gates.length, call, undefined, false);
  return result;
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
  return (call, fn) => throughGates(gates, new Array<unknown>(n), inner, call, fn);
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
