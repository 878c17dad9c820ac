import { checkFunction, checkOneOf, invalidOption } from '@ballast/core';
import {
  JSON_CONTENT_TYPE,
  sendJson,
  type HttpRequestLike,
  type HttpResponseLike,
  type MiddlewareLike,
} from '../shed/http.js';
import { rateLimitHeaders, type RateLimitHeaderStandard } from './rateLimitHeaders.js';
import type { RateLimitDecision, RateLimitRule } from './RateLimitRule.js';
import type { RateLimiter } from './RateLimiter.js';

/** Options for {@link rateLimitMiddleware}. */
export interface RateLimitMiddlewareOptions<Req extends HttpRequestLike = HttpRequestLike> {
  /** The key to limit by (tenant, API key, user); `undefined` lets the request through unlimited. */
  readonly key: (req: Req) => string | undefined;
  /** The rule for this request (e.g. by the tenant's plan); `undefined` uses the limiter's rule. */
  readonly rule?: (req: Req) => RateLimitRule | undefined;
  /** Units the request costs. @default () => 1 */
  readonly cost?: (req: Req) => number;
  /** Which IETF header revision to send (see {@link RateLimitHeaderStandard}). @default 'draft-6' */
  readonly headers?: RateLimitHeaderStandard;
  /** The JSON body of a 429. @default { error: 'rate_limited', message, retryAfterSeconds } */
  readonly body?: (req: Req, decision: RateLimitDecision) => unknown;
  /**
   * The `Content-Type` of that body, e.g. `application/problem+json` when `body` builds an RFC 9457 problem.
   * @default 'application/json; charset=utf-8'
   */
  readonly contentType?: string;
}

/**
 * An express-compatible middleware that limits requests per key with a {@link RateLimiter}. Every limited response
 * carries the IETF `RateLimit` headers; a denied request gets `429 Too Many Requests` with `Retry-After` and a JSON
 * body.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { RateLimiter, rateLimitMiddleware } from '@ballast/resilience';
 * const limiter = new RateLimiter({ rule: { limit: 100, periodMs: 60_000 } });
 * const app = express();
 * app.use(rateLimitMiddleware(limiter, { key: (req) => req.header('x-tenant-id') }));
 * ```
 */
export function rateLimitMiddleware<
  Req extends HttpRequestLike = HttpRequestLike,
  Res extends HttpResponseLike = HttpResponseLike,
>(limiter: RateLimiter, options: RateLimitMiddlewareOptions<Req>): MiddlewareLike<Req, Res> {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('options', 'an object with a `key` function', options);
  }
  if (typeof options.key !== 'function') throw invalidOption('key', 'a function', options.key);
  const keyOf = options.key;
  const ruleOf = checkFunction<(req: Req) => RateLimitRule | undefined>(
    'rule',
    options.rule,
    () => undefined,
  );
  const costOf = checkFunction<(req: Req) => number>('cost', options.cost, () => 1);
  const standard = checkOneOf('headers', options.headers, ['draft-6', 'draft-8'] as const, 'draft-6');
  const body = checkFunction('body', options.body, (_req: Req, decision: RateLimitDecision) => ({
    error: 'rate_limited',
    message: 'Too many requests; retry later.',
    retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
  }));
  const contentType = options.contentType ?? JSON_CONTENT_TYPE;
  if (typeof contentType !== 'string' || contentType === '') {
    throw invalidOption('contentType', 'a non-empty string', options.contentType);
  }

  return (req, res, next) => {
    let pending: Promise<RateLimitDecision>;
    try {
      const key = keyOf(req);
      if (key === undefined) {
        next();
        return;
      }
      const rule = ruleOf(req);
      const cost = costOf(req);
      pending = limiter.consume(key, rule === undefined ? { cost } : { rule, cost });
    } catch (error) {
      next(error);
      return;
    }
    pending.then(
      (decision) => {
        for (const [name, value] of Object.entries(rateLimitHeaders(decision, standard))) {
          res.setHeader(name, value);
        }
        if (decision.allowed) next();
        else sendJson(res, 429, body(req, decision), contentType);
      },
      (error: unknown) => next(error),
    );
  };
}
