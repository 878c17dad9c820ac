import type { BreakerState } from '@ballast/core';
import type { Breaker, BreakerSnapshot } from './Breaker.js';

/** Half-open behaviour of a {@link BreakerMachine}. */
export interface HalfOpenOptions {
  /** Milliseconds the circuit stays open before it lets probes through. */
  readonly halfOpenAfterMs: number;
  /** Probe calls admitted while half-open. */
  readonly probes: number;
  /** Successful probes that close the circuit (<= probes). */
  readonly successThreshold: number;
  /** Each failed half-open episode multiplies the open time by this (1 = constant). */
  readonly backoffMultiplier: number;
  /** Cap on the open time when backing off. */
  readonly maxHalfOpenAfterMs: number;
}

/** Refusals {@link BreakerMachine.acquire} returns (negative, so any token >= 0 means "admitted"). */
export const OPEN = -1;
export const ISOLATED = -2;
export const HALF_OPEN_FULL = -3;

/** The state of a {@link BreakerMachine} as plain JSON-safe data. */
export interface BreakerMachineSnapshot {
  readonly state: BreakerState;
  /** When the circuit (last) opened, in clock milliseconds. */
  readonly openedAt: number;
  /** The current open duration (grows with half-open backoff). */
  readonly openMs: number;
  readonly breaker: BreakerSnapshot;
}

/**
 * The circuit breaker's state machine, with no clock, timer or promise of its own: every method takes `now`.
 *
 * closed --(breaker says open)--> open --(openMs passed, on the next read)--> half-open
 * half-open --(successThreshold probes succeeded)--> closed;  half-open --(a probe failed)--> open (backed off)
 * any --isolate()--> isolated --reset()--> closed
 *
 * A token from {@link BreakerMachine.acquire} is the machine's epoch; an outcome reported with a token from an
 * earlier epoch (a call admitted before the last transition) is ignored, so a slow call admitted while closed can
 * neither count as a half-open probe nor reopen a circuit that already moved on.
 */
export class BreakerMachine {
  readonly breaker: Breaker;
  readonly options: HalfOpenOptions;
  #state: BreakerState = 'closed';
  #epoch = 0;
  #openedAt = 0;
  #openMs: number;
  #probesAdmitted = 0;
  #probeSuccesses = 0;
  /** Called on every transition, after the state changed. */
  onTransition: ((from: BreakerState, to: BreakerState) => void) | undefined;

  constructor(breaker: Breaker, options: HalfOpenOptions) {
    this.breaker = breaker;
    this.options = options;
    this.#openMs = options.halfOpenAfterMs;
  }

  /** The state at `now` (an open circuit whose time is up reads as half-open: the transition happens here). */
  state(now: number): BreakerState {
    if (this.#state === 'open' && now >= this.#openedAt + this.#openMs) this.#to('half-open');
    return this.#state;
  }

  /** Milliseconds until an open circuit admits a probe (0 when not open). */
  retryAfterMs(now: number): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.#openMs - now) : 0;
  }

  /** Admits a call (returns a token >= 0) or refuses it ({@link OPEN}, {@link ISOLATED}, {@link HALF_OPEN_FULL}). */
  acquire(now: number): number {
    const state = this.#state;
    if (state === 'closed') return this.#epoch;
    if (state === 'isolated') return ISOLATED;
    if (state === 'open') {
      if (now < this.#openedAt + this.#openMs) return OPEN;
      // The first caller after the open time becomes a probe.
      this.#to('half-open');
    }
    if (this.#probesAdmitted >= this.options.probes) return HALF_OPEN_FULL;
    this.#probesAdmitted++;
    return this.#epoch;
  }

  /** Reports the outcome of a call admitted with `token`. `bad` = failed (as counted) or slow. */
  complete(token: number, failed: boolean, slow: boolean, now: number): void {
    if (token !== this.#epoch) return;
    if (this.#state === 'closed') {
      if (this.breaker.record(failed, slow, now)) this.#open(now);
    } else if (this.#state === 'half-open') {
      if (failed || slow) {
        this.#openMs = Math.min(
          this.options.maxHalfOpenAfterMs,
          this.#openMs * this.options.backoffMultiplier,
        );
        this.#open(now);
      } else if (++this.#probeSuccesses >= this.options.successThreshold) {
        this.#close();
      }
    }
  }

  /** Opens the circuit by hand until {@link BreakerMachine.reset}. */
  isolate(): void {
    if (this.#state !== 'isolated') this.#to('isolated');
  }

  /** Closes the circuit and forgets every recorded call and any backoff. */
  reset(): void {
    this.breaker.reset();
    this.#openMs = this.options.halfOpenAfterMs;
    if (this.#state !== 'closed') this.#to('closed');
    else this.#epoch++;
  }

  toJSON(): BreakerMachineSnapshot {
    return {
      state: this.#state,
      openedAt: this.#openedAt,
      openMs: this.#openMs,
      breaker: this.breaker.toJSON(),
    };
  }

  /**
   * Restores a snapshot. A circuit saved half-open restores as open with its time already up, so the next call
   * probes afresh (the probes in flight at save time died with the process).
   */
  hydrate(snapshot: BreakerMachineSnapshot): void {
    this.breaker.hydrate(snapshot.breaker);
    this.#openMs = snapshot.openMs;
    this.#openedAt = snapshot.state === 'half-open' ? -Infinity : snapshot.openedAt;
    this.#state = snapshot.state === 'half-open' ? 'open' : snapshot.state;
    this.#probesAdmitted = 0;
    this.#probeSuccesses = 0;
    this.#epoch++;
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#to('open');
  }

  #close(): void {
    this.breaker.reset();
    this.#openMs = this.options.halfOpenAfterMs;
    this.#to('closed');
  }

  #to(to: BreakerState): void {
    const from = this.#state;
    this.#state = to;
    this.#epoch++;
    this.#probesAdmitted = 0;
    this.#probeSuccesses = 0;
    this.onTransition?.(from, to);
  }
}
