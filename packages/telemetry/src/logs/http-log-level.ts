/** The levels {@link httpLogLevel} chooses from. */
export type HttpLogLevel = 'error' | 'info' | 'debug';

/**
 * The level of a request's log line, in pino-http's `customLogLevel` shape: `error` for a 5xx or a request that
 * failed with an error (on-call reads these, each with its trace id), `info` for a client error (4xx: the
 * client's mistake, kept for support questions), `debug` for everything else (metrics count successes; a line per
 * successful request is what a busy service can least afford). A logger at `info` writes failures only.
 *
 * @example
 * ```ts
 * import pinoHttp from 'pino-http';
 * import { httpLogLevel } from '@ballast/telemetry';
 * app.use(pinoHttp({ logger, customLogLevel: httpLogLevel }));
 * ```
 */
export function httpLogLevel(
  _req: unknown,
  res: { readonly statusCode: number },
  error?: unknown,
): HttpLogLevel {
  if (error !== undefined && error !== null) return 'error';
  const status = res.statusCode;
  if (status >= 500) return 'error';
  if (status >= 400) return 'info';
  return 'debug';
}
