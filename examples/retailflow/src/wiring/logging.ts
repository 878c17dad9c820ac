import type { Request, RequestHandler } from 'express';
import { pino, type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Clock, ErrorHandler, Subscription } from '@ballast/core';
import {
  logPolicyEvents,
  rateLimitedLogger,
  requestLogOptions,
  traceLogMixin,
  type RateLimitedLogger,
} from '@ballast/telemetry';
import { contextOf } from '../http/context.js';
import type { RetailFlowPolicies } from './policies.js';

/** The levels `LOG_LEVEL` may name. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * RetailFlow's logger: JSON lines on stdout (or `destination`), each written inside a traced request carrying its
 * `trace_id`, `span_id` and `trace_flags`, and `service` on every line.
 *
 * @example
 * ```ts
 * const logger = createLogger({ service: 'retailflow', level: process.env.LOG_LEVEL });
 * ```
 */
export function createLogger(options: {
  service: string;
  /** @default 'info' */
  level?: string | undefined;
  /** @default stdout */
  destination?: DestinationStream;
}): Logger {
  const level = options.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new TypeError(`Expected \`LOG_LEVEL\` to be one of ${LOG_LEVELS.join(', ')}, got \`${level}\``);
  }
  return pino({ level, base: { service: options.service }, mixin: traceLogMixin }, options.destination);
}

/** RetailFlow's request and policy logging, built by {@link createLogging}. */
export interface RetailFlowLogging {
  /** pino-http: one line per failed request (5xx at error, 4xx at info), successes at debug. */
  readonly middleware: RequestHandler;
  /** Logs an error that became a 500, with its stack, at error (at most 10 lines a minute per error class). */
  unexpected(error: unknown): void;
  close(): void;
}

/**
 * Request logs and policy state changes for RetailFlow. pino-http with Ballast's `requestLogOptions`: a request id
 * (the caller's `x-request-id` when it is a plain token, else a UUID; echoed in the response); when the response is
 * written, a line with the request id, method and path (no headers: they carry API keys; no query string), status,
 * response time, route template, tenant and, through the mixin, the trace; 5xx at error, 4xx at info, the rest at
 * debug. Breaker transitions, load shedding episodes, store failures and spent retry budgets are logged by
 * `logPolicyEvents`.
 */
export function createLogging(options: {
  logger: Logger;
  clock: Clock;
  policies: RetailFlowPolicies;
}): RetailFlowLogging {
  const { logger, clock, policies } = options;
  const middleware = pinoHttp({
    logger,
    ...requestLogOptions({ tenant: (req) => contextOf(req as Request).tenant?.id }),
  }) as unknown as RequestHandler;

  const limited: RateLimitedLogger = rateLimitedLogger(logger, { clock, perWindow: 10, windowMs: 60_000 });
  const subscription: Subscription = logPolicyEvents(
    logger,
    [...policies.observable, policies.ingressLimiter, policies.tenantLimiter],
    { clock },
  );
  return {
    middleware,
    unexpected(error) {
      const kind = error instanceof Error ? error.name : typeof error;
      limited.error(`unexpected:${kind}`, { err: error }, 'unhandled error in a request');
    },
    close() {
      subscription.dispose();
    },
  };
}

/**
 * An error handler for `setErrorHandler` that logs what Ballast swallowed to protect a caller (a listener that
 * threw, a gauge that could not be read) as warnings, at most 5 a minute per context, so a dependency that fails
 * on every scrape cannot flood the log.
 *
 * @example
 * ```ts
 * setErrorHandler(logSwallowedErrors(logger, systemClock));
 * ```
 */
export function logSwallowedErrors(logger: Logger, clock: Clock): ErrorHandler {
  const limited = rateLimitedLogger(logger, { clock, perWindow: 5, windowMs: 60_000 });
  return (error, context) => {
    limited.warn(context, { err: error, context }, context);
  };
}
