import { checkFunction, checkNumber, invalidOption } from '@ballast/core';
import type { Priority } from '@ballast/core';
import type { ConcurrencyLimiter, LimiterPermit } from './ConcurrencyLimiter.js';
import {
  JSON_CONTENT_TYPE,
  sendJson,
  type HttpRequestLike,
  type HttpResponseLike,
  type MiddlewareLike,
} from './http.js';
import { isLoadShedError, type LoadShedError } from './LoadShedError.js';

/** Options for {@link loadSheddingMiddleware}. */
export interface LoadSheddingMiddlewareOptions<Req extends HttpRequestLike = HttpRequestLike> {
  /** The priority class of a request (e.g. health checks `critical`, batch exports `sheddable`). @default () => 'default' */
  readonly priority?: (req: Req) => Priority;
  /** The `Retry-After` value, in seconds, sent with a 503. @default 1 */
  readonly retryAfterSeconds?: number;
  /** Which finished responses are overload signals (drops for the limit algorithm). @default status 503 or 504 */
  readonly isDropped?: (statusCode: number) => boolean;
  /** The JSON body of a 503. @default { error: 'overloaded', message, priority, retryAfterSeconds } */
  readonly body?: (req: Req, error: LoadShedError) => unknown;
  /**
   * The `Content-Type` of that body, e.g. `application/problem+json` when `body` builds an RFC 9457 problem.
   * @default 'application/json; charset=utf-8'
   */
  readonly contentType?: string;
}

/**
 * Ends a limiter permit when an HTTP response does: `success()` when it finishes, `dropped()` when it finishes with
 * a status `isDropped` accepts (an overload signal for the limit algorithm), `ignore()` when the client went away
 * first. For admission code of your own in front of a server; {@link loadSheddingMiddleware} uses it.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { ConcurrencyLimiter, releaseOnResponse } from '@ballast/resilience';
 * const limiter = new ConcurrencyLimiter();
 * http.createServer(async (req, res) => {
 *   releaseOnResponse(await limiter.acquire('default'), res);
 *   res.end('ok');
 * });
 * ```
 */
export function releaseOnResponse(
  permit: LimiterPermit,
  res: Pick<HttpResponseLike, 'statusCode' | 'once'>,
  isDropped: (statusCode: number) => boolean = (status) => status === 503 || status === 504,
): void {
  let done = false;
  res.once('finish', () => {
    if (done) return;
    done = true;
    if (isDropped(res.statusCode)) permit.dropped();
    else permit.success();
  });
  res.once('close', () => {
    if (done) return;
    done = true;
    permit.ignore();
  });
}

/**
 * An express-compatible middleware that runs each request under a {@link ConcurrencyLimiter} permit (held until the
 * response finishes) and answers `503 Service Unavailable` with `Retry-After` and a JSON body when the request is
 * shed. A response that ends with a status `isDropped` accepts counts as a drop; a client that goes away before the
 * response finishes gives no sample, and a request whose client left while it waited in the queue is not run.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { ConcurrencyLimiter, loadSheddingMiddleware } from '@ballast/resilience';
 * const app = express();
 * app.use(loadSheddingMiddleware(new ConcurrencyLimiter(), { priority: (req) => (req.path === '/healthz' ? 'critical' : 'default') }));
 * ```
 */
export function loadSheddingMiddleware<
  Req extends HttpRequestLike = HttpRequestLike,
  Res extends HttpResponseLike = HttpResponseLike,
>(limiter: ConcurrencyLimiter, options: LoadSheddingMiddlewareOptions<Req> = {}): MiddlewareLike<Req, Res> {
  const priorityOf = checkFunction<(req: Req) => Priority>('priority', options.priority, () => 'default');
  const retryAfter = checkNumber('retryAfterSeconds', options.retryAfterSeconds, 1, {
    integer: true,
    min: 0,
  });
  const isDropped = checkFunction('isDropped', options.isDropped, (s: number) => s === 503 || s === 504);
  const body = checkFunction('body', options.body, (_req: Req, error: LoadShedError) => ({
    error: 'overloaded',
    message: 'The service is shedding load; retry later.',
    priority: error.priority,
    retryAfterSeconds: retryAfter,
  }));
  const contentType = options.contentType ?? JSON_CONTENT_TYPE;
  if (typeof contentType !== 'string' || contentType === '') {
    throw invalidOption('contentType', 'a non-empty string', options.contentType);
  }

  return (req, res, next) => {
    let priority: Priority;
    try {
      priority = priorityOf(req);
    } catch (error) {
      next(error);
      return;
    }
    limiter.acquire(priority).then(
      (permit) => {
        if (res.destroyed) {
          permit.ignore(); // the client left while the request waited in the queue: do not run it
          return;
        }
        releaseOnResponse(permit, res, isDropped);
        next();
      },
      (error: unknown) => {
        if (!isLoadShedError(error)) {
          next(error);
          return;
        }
        res.setHeader('Retry-After', String(retryAfter));
        sendJson(res, 503, body(req, error), contentType);
      },
    );
  };
}
