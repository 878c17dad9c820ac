import { sleep } from '../common/sleep.js';
import { type Clock, checkFunction, checkNumber, invalidOption } from '@ballast/core';
import { PolicyBase } from '../common/PolicyBase.js';
import { type Gate, type Runner, type Step, fuse, toStep } from '../common/compose.js';
import { ChaosError } from './ChaosError.js';

/** The fault a {@link ChaosPolicy} injects. */
export type ChaosFault<R = never> =
  | { readonly kind: 'latency'; readonly ms: number }
  | { readonly kind: 'error'; readonly error?: () => unknown }
  | { readonly kind: 'result'; readonly value: R };

/** Options for {@link ChaosPolicy}. */
export interface ChaosOptions<R = never> {
  /** Name used in events, and in `BALLAST_CHAOS` to switch this policy on. @default 'chaos' */
  readonly name?: string;
  /** What to inject. */
  readonly fault: ChaosFault<R>;
  /** Fraction of calls that get the fault (0..1); settable at run time. @default 0.1 */
  readonly rate?: number;
  /**
   * Whether the policy injects anything; settable at run time.
   * @default from the `BALLAST_CHAOS` environment variable: `1`, `true`, `on`, `all` or `*` turn every chaos policy
   * on; a comma-separated list of names turns those on; anything else (or unset) leaves chaos off.
   */
  readonly enabled?: boolean;
  /** The environment to read `BALLAST_CHAOS` from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Uniform random numbers in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Source of time for injected latency. @default systemClock */
  readonly clock?: Clock;
}

/**
 * True when `BALLAST_CHAOS` (in `env`) switches on the chaos policy called `name`.
 *
 * @example
 * ```ts
 * import { chaosEnabledByEnv } from '@ballast/resilience';
 * chaosEnabledByEnv('payments', { BALLAST_CHAOS: 'inventory,payments' }); // true
 * ```
 */
export function chaosEnabledByEnv(name: string, env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env['BALLAST_CHAOS']?.trim().toLowerCase();
  if (!value) return false;
  if (['1', 'true', 'on', 'all', '*'].includes(value)) return true;
  return value.split(',').some((n) => n.trim() === name.toLowerCase());
}

/**
 * Injects latency, errors or a chosen result into a fraction of calls, for chaos tests and game days. Off unless
 * switched on (option, run-time setter, or the `BALLAST_CHAOS` environment variable); when off it costs one branch.
 *
 * @example
 * ```ts
 * import { ChaosPolicy } from '@ballast/resilience';
 * const chaos = new ChaosPolicy({ name: 'payments-chaos', fault: { kind: 'latency', ms: 2_000 }, rate: 0.05 });
 * chaos.enabled = true; // or BALLAST_CHAOS=payments-chaos
 * ```
 */
export class ChaosPolicy<R = never> extends PolicyBase<R> {
  readonly kind = 'chaos' as const;
  readonly fault: ChaosFault<R>;
  /** Whether faults are injected now. */
  enabled: boolean;
  readonly #random: () => number;
  #rate: number;

  constructor(options: ChaosOptions<R>) {
    if (typeof options !== 'object' || options === null) {
      throw invalidOption('options', 'an object with `fault`', options);
    }
    super(options.name ?? 'chaos', options.clock);
    const fault = options.fault as ChaosFault<R> | undefined;
    if (!fault || !['latency', 'error', 'result'].includes(fault.kind)) {
      throw invalidOption('fault', "{ kind: 'latency' | 'error' | 'result', ... }", fault);
    }
    if (fault.kind === 'latency') checkNumber('fault.ms', fault.ms, 0, { min: 0 });
    if (fault.kind === 'error') checkFunction('fault.error', fault.error, () => undefined);
    this.fault = fault;
    this.#rate = checkNumber('rate', options.rate, 0.1, { min: 0, max: 1 });
    if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
      throw invalidOption('enabled', 'a boolean', options.enabled);
    }
    this.enabled = options.enabled ?? chaosEnabledByEnv(this.name, options.env ?? process.env);
    this.#random = checkFunction('random', options.random, Math.random);
  }

  /** Fraction of calls that get the fault (0..1). */
  get rate(): number {
    return this.#rate;
  }

  set rate(value: number) {
    this.#rate = checkNumber('rate', value, 0, { min: 0, max: 1 });
  }

  /** @internal */
  override [toStep](): Step {
    return { wrap: this.#wrap };
  }

  readonly #wrap = (innermost: Runner, gates: readonly Gate[]): Runner => {
    const inner = fuse(gates, innermost);
    return (call, fn) => {
      if (!this.enabled || this.#rate === 0 || this.#random() >= this.#rate) return inner(call, fn);
      const fault = this.fault;
      if (this.events.hasListeners) {
        this.events.emit({ policy: this.name, kind: 'chaos', type: 'chaos', fault: fault.kind });
      }
      switch (fault.kind) {
        case 'error':
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown, unchanged
          return Promise.reject(fault.error?.() ?? new ChaosError(this.name));
        case 'result':
          return Promise.resolve(fault.value);
        case 'latency':
          return sleep(this.clock, fault.ms, call.userSignal).then(() => inner(call, fn));
      }
    };
  };
}
