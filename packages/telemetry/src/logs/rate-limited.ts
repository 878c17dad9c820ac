import { type Clock, checkNumber, invalidOption, reportError, systemClock } from '@ballast/core';
import { OVERFLOW_VALUE } from '../catalog.js';
import type { LogLevel, LoggerLike } from './logger.js';

/** Options for {@link rateLimitedLogger}. */
export interface RateLimitedLogOptions {
  /**
   * Source of time for the windows.
   * @default systemClock
   * @example
   * ```ts
   * rateLimitedLogger(logger, { clock: new ManualClock() });
   * ```
   */
  readonly clock?: Clock;
  /**
   * Length of one window, in milliseconds.
   * @default 60_000
   * @example
   * ```ts
   * rateLimitedLogger(logger, { windowMs: 10_000 });
   * ```
   */
  readonly windowMs?: number;
  /**
   * Lines written per key per window; later ones in the window are counted, not written.
   * @default 5
   * @example
   * ```ts
   * rateLimitedLogger(logger, { perWindow: 1 });
   * ```
   */
  readonly perWindow?: number;
  /**
   * Keys tracked at once. Past it (keys made from client input, say), new keys share one budget, keyed
   * `__overflow__`, so no number of distinct keys can flood the log or grow memory.
   * @default 1000
   * @example
   * ```ts
   * rateLimitedLogger(logger, { maxKeys: 100 });
   * ```
   */
  readonly maxKeys?: number;
}

/** A logger whose lines are rate limited per key (see {@link rateLimitedLogger}). */
export interface RateLimitedLogger {
  /** Writes at `level` unless `key` spent its lines for this window; returns whether the line was written. */
  log(level: LogLevel, key: string, fields: object, message: string): boolean;
  /** `log('warn', ...)`. */
  warn(key: string, fields: object, message: string): boolean;
  /** `log('error', ...)`. */
  error(key: string, fields: object, message: string): boolean;
  /** Lines not written so far, over all keys (for a metric or a test). */
  readonly suppressed: number;
}

interface Window {
  start: number;
  written: number;
  suppressed: number;
}

/**
 * Rate limits log lines per key (`perWindow` lines per `windowMs`), so a client sending bad input in a loop, or a
 * dependency failing on every call, writes a few lines a minute instead of one per request. The first line written
 * in a new window carries `suppressed: n`, the lines the key lost in its previous window. Keys are bounded by
 * `maxKeys`. Time comes from the injected `Clock`.
 *
 * @example
 * ```ts
 * import { rateLimitedLogger } from '@ballast/telemetry';
 * const limited = rateLimitedLogger(logger, { perWindow: 5, windowMs: 60_000 });
 * limited.warn(`bad-cursor:${tenant}`, { tenant }, 'cursor this API did not issue');
 * ```
 */
export function rateLimitedLogger(
  logger: LoggerLike,
  options: RateLimitedLogOptions = {},
): RateLimitedLogger {
  const clock = options.clock ?? systemClock;
  const windowMs = checkNumber('windowMs', options.windowMs, 60_000, { above: 0 });
  const perWindow = checkNumber('perWindow', options.perWindow, 5, { integer: true, min: 1 });
  const maxKeys = checkNumber('maxKeys', options.maxKeys, 1000, { integer: true, min: 1 });
  for (const level of ['error', 'warn', 'info', 'debug'] as const) {
    if (typeof logger?.[level] !== 'function') {
      throw invalidOption('logger', 'a logger with error, warn, info and debug methods (e.g. pino)', logger);
    }
  }
  const windows = new Map<string, Window>();
  let suppressed = 0;
  let sweptAt = -Infinity;

  const windowOf = (key: string, now: number): Window => {
    let window = windows.get(key);
    if (window !== undefined) return window;
    if (windows.size >= maxKeys && now - sweptAt >= windowMs) {
      // Full: drop the keys whose window ended with nothing left to report (at most once per window).
      sweptAt = now;
      for (const [k, w] of windows) if (now - w.start >= windowMs && w.suppressed === 0) windows.delete(k);
    }
    if (windows.size >= maxKeys) {
      key = OVERFLOW_VALUE;
      window = windows.get(key);
      if (window !== undefined) return window;
    }
    window = { start: now, written: 0, suppressed: 0 };
    windows.set(key, window);
    return window;
  };

  const log = (level: LogLevel, key: string, fields: object, message: string): boolean => {
    const now = clock.now();
    const window = windowOf(String(key), now);
    let lost = 0;
    if (now - window.start >= windowMs) {
      lost = window.suppressed;
      window.start = now;
      window.written = 0;
      window.suppressed = 0;
    }
    if (window.written >= perWindow) {
      window.suppressed++;
      suppressed++;
      return false;
    }
    window.written++;
    try {
      logger[level](lost > 0 ? { ...fields, suppressed: lost } : fields, message);
    } catch (error) {
      reportError(error, 'writing a rate-limited log line');
    }
    return true;
  };

  return {
    log,
    warn: (key, fields, message) => log('warn', key, fields, message),
    error: (key, fields, message) => log('error', key, fields, message),
    get suppressed() {
      return suppressed;
    },
  };
}
