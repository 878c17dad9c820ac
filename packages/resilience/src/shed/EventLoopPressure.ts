import {
  monitorEventLoopDelay,
  performance,
  type EventLoopUtilization,
  type IntervalHistogram,
} from 'node:perf_hooks';
import {
  checkFunction,
  checkNumber,
  reportError,
  systemClock,
  type Clock,
  type TimerHandle,
} from '@ballast/core';
import type { Priority } from '@ballast/core';

/** One reading of how busy the event loop was since the previous one. */
export interface EventLoopSample {
  /** Event-loop utilization over the interval, 0..1 (`performance.eventLoopUtilization`). */
  readonly utilization: number;
  /** Event-loop delay over the interval, in milliseconds (the 99th percentile of `monitorEventLoopDelay`). */
  readonly delayMs: number;
  /**
   * CPU the process used over the interval, in cores (`process.cpuUsage` over the wall time: 1 is one CPU the whole
   * interval). Unset when the sampler does not know it; `minCpu` then has no effect.
   */
  readonly cpu?: number;
}

/** Decides, before a call takes a permit, whether its priority class is admitted at all. */
export interface AdmissionSignal {
  /** False when calls of this priority must be shed now. Cheap: called on every admission. */
  admits(priority: Priority): boolean;
}

/** Options for {@link EventLoopPressure}. */
export interface EventLoopPressureOptions {
  /**
   * Utilization above which the loop counts as saturated. A loop can run near 1 and still keep up (its delay stays
   * low), so the delay is the main signal and this only catches a loop that never rests. @default 0.99
   */
  readonly targetUtilization?: number;
  /** Event-loop delay (p99 over a sample) above which the loop counts as saturated, in ms. @default 40 */
  readonly maxDelayMs?: number;
  /** Event-loop delay above which even `critical` work is shed, in ms. @default 500 */
  readonly criticalDelayMs?: number;
  /** How often the loop is sampled, in ms. @default 100 */
  readonly sampleIntervalMs?: number;
  /** How far the pressure moves per sample (the pressure runs from 0 to 3, one unit per class). @default 0.25 */
  readonly step?: number;
  /**
   * Pressure (in the same units) the loop must build before anything is shed: the classes' bands start above it
   * and the pressure runs up to `3 + onset`. With the default `step`, an onset of 1 waits for about four saturated
   * samples in a row, so a burst that saturates the loop for a moment (open-loop arrivals at the service's
   * capacity do) sheds nothing, while a sustained overload is shed a few hundred milliseconds later. @default 0
   */
  readonly onset?: number;
  /**
   * Admission decisions answered "admit" whatever the pressure before the signal sheds anything. A process just
   * started runs its code unoptimized until V8 has seen it run often, and its loop is saturated by that and by the
   * caches it fills, not by load; a blue/green switch or a canary sends such a process its share of the traffic at
   * once, and shedding then refuses requests a moment of warming would serve. Counted in decisions, not time: light
   * traffic arms the signal slowly, a flood quickly. The pressure is sampled meanwhile (`underPressure` reports it).
   * @default 0
   */
  readonly warmupDecisions?: number;
  /**
   * CPU (in cores, see {@link EventLoopSample.cpu}) the process must have used over a sample for its saturation to
   * count. A loop that is late while its own process barely runs is starved by its neighbours (other processes on
   * the same CPUs, a container's CPU quota) rather than overloaded, and refusing its requests would not give it the
   * CPU back; on one machine, a deploy starting new instances beside warm ones starves the warm ones this way. Such
   * a sample builds no pressure, so `underPressure` stays false too. Set it below the process's CPU quota, if it
   * has one. @default 0 (every saturated sample counts)
   */
  readonly minCpu?: number;
  /** Time source for sampling. @default systemClock */
  readonly clock?: Clock;
  /** Random source in [0, 1) for the probabilistic part of shedding. @default Math.random */
  readonly random?: () => number;
  /** Where samples come from. @default the process's event loop (perf_hooks) */
  readonly sampler?: () => EventLoopSample;
}

function perfHooksSampler(): () => EventLoopSample {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let previous: EventLoopUtilization = performance.eventLoopUtilization();
  let cpuBefore = process.cpuUsage();
  let wallBefore = performance.now();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, previous);
    previous = now;
    const delayMs = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
    histogram.reset();
    const cpuNow = process.cpuUsage();
    const wallNow = performance.now();
    const wallUs = (wallNow - wallBefore) * 1000;
    const cpu = wallUs > 0 ? (cpuNow.user - cpuBefore.user + cpuNow.system - cpuBefore.system) / wallUs : 0;
    cpuBefore = cpuNow;
    wallBefore = wallNow;
    return { utilization: delta.utilization, delayMs, cpu };
  };
}

const CLASSES: Readonly<Record<Priority, number>> = { sheddable: 0, default: 1, critical: 2 };

/**
 * Load shedding on what a Node.js process actually runs out of: event-loop time. An adaptive concurrency limit
 * learns from the latency of calls *inside* the process, but when the event loop is saturated the queue forms in
 * front of it, in socket buffers no handler sees, and handler latency stays flat while clients wait seconds. This
 * signal samples event-loop utilization and delay, and keeps a pressure from 0 to 3 that rises by `step` for each
 * saturated sample and falls by `step` for each calm one:
 *
 * - 0..1: `sheddable` calls are shed with probability `pressure`;
 * - 1..2: all `sheddable` calls and `default` calls with probability `pressure - 1`;
 * - 2..3: `critical` calls too with probability `pressure - 2`, only while the delay exceeds `criticalDelayMs`.
 *
 * With an `onset`, the bands start that much higher (the pressure then runs to `3 + onset`): short saturations shed
 * nothing, a sustained one sheds as above. With `warmupDecisions`, a process just started admits its first calls
 * whatever its loop does (its code is not yet optimized).
 *
 * Pass it to a {@link ConcurrencyLimiter} as `admission`; shed calls are rejected like any other shed call (same
 * error, event and 503). Sampling uses one background timer (`ref: false`: it never keeps the process alive), started on the first admission; `close()` stops it.
 *
 * @example
 * ```ts
 * import { ConcurrencyLimiter, EventLoopPressure } from '@ballast/resilience';
 * const limiter = new ConcurrencyLimiter({ name: 'ingress', admission: new EventLoopPressure() });
 * ```
 */
export class EventLoopPressure implements AdmissionSignal {
  readonly #target: number;
  readonly #maxDelay: number;
  readonly #criticalDelay: number;
  readonly #interval: number;
  readonly #step: number;
  readonly #onset: number;
  readonly #warmup: number;
  readonly #minCpu: number;
  #decisions = 0;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #samplerOption: (() => EventLoopSample) | undefined;
  #sampler: (() => EventLoopSample) | undefined;
  #timer: TimerHandle | undefined;
  #pressure = 0;
  #lastDelay = 0;
  #closed = false;

  constructor(options: EventLoopPressureOptions = {}) {
    this.#target = checkNumber('targetUtilization', options.targetUtilization, 0.99, { above: 0, max: 1 });
    this.#maxDelay = checkNumber('maxDelayMs', options.maxDelayMs, 40, { above: 0 });
    this.#criticalDelay = checkNumber('criticalDelayMs', options.criticalDelayMs, 500, {
      min: this.#maxDelay,
    });
    this.#interval = checkNumber('sampleIntervalMs', options.sampleIntervalMs, 100, { above: 0 });
    this.#step = checkNumber('step', options.step, 0.25, { above: 0, max: 3 });
    this.#onset = checkNumber('onset', options.onset, 0, { min: 0, max: 10 });
    this.#warmup = checkNumber('warmupDecisions', options.warmupDecisions, 0, { min: 0, integer: true });
    this.#minCpu = checkNumber('minCpu', options.minCpu, 0, { min: 0 });
    this.#clock = options.clock ?? systemClock;
    this.#random = checkFunction('random', options.random, Math.random);
    this.#samplerOption =
      options.sampler === undefined
        ? undefined
        : checkFunction('sampler', options.sampler, () => ({ utilization: 0, delayMs: 0 }));
  }

  /** The current pressure, 0 (admit everything) to `3 + onset` (shed everything the rules allow). */
  get pressure(): number {
    return this.#pressure;
  }

  /**
   * True while the event loop has been saturated recently (the pressure is above 0). Starts sampling, as the first
   * admission does: usable as the `onlyWhile` condition of a {@link SaturationSignal}.
   */
  get underPressure(): boolean {
    if (this.#timer === undefined && !this.#closed) this.#start();
    return this.#pressure > 0;
  }

  admits(priority: Priority): boolean {
    if (this.#timer === undefined && !this.#closed) this.#start();
    if (this.#decisions < this.#warmup) {
      this.#decisions++;
      return true;
    }
    const p = this.#pressure - this.#onset - CLASSES[priority];
    if (p <= 0) return true;
    if (priority === 'critical' && this.#lastDelay <= this.#criticalDelay) return true;
    return p < 1 ? this.#random() >= p : false;
  }

  /** Takes one sample now and updates the pressure (the timer calls this; tests may too). */
  sample(): void {
    this.#sampler ??= this.#samplerOption ?? perfHooksSampler();
    let sample: EventLoopSample;
    try {
      sample = this.#sampler();
    } catch (error) {
      reportError(error, 'event-loop pressure sampler threw');
      return;
    }
    this.#lastDelay = sample.delayMs;
    const saturated =
      (sample.utilization > this.#target || sample.delayMs > this.#maxDelay) &&
      !(sample.cpu !== undefined && sample.cpu < this.#minCpu);
    this.#pressure = Math.min(
      3 + this.#onset,
      Math.max(0, this.#pressure + (saturated ? this.#step : -this.#step)),
    );
  }

  /** Stops sampling; the signal then admits at its last pressure. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #start(): void {
    const tick = () => {
      this.sample();
      if (!this.#closed) this.#timer = this.#clock.setTimeout(tick, this.#interval, { ref: false });
    };
    this.#timer = this.#clock.setTimeout(tick, this.#interval, { ref: false });
  }
}
