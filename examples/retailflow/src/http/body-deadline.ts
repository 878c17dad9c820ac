import type { RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import { HttpProblem, sendProblem } from './problem.js';

/**
 * A per-request deadline for receiving the body: a client that has not sent its whole body `timeoutMs` after the
 * body began to be read is answered 408 and its connection closed, so a slow upload holds its ingress permit and
 * its socket for at most that long. Node's `requestTimeout` is the backstop for the whole request; this one runs
 * on the injected clock and answers a problem body.
 *
 * @example
 * ```ts
 * router.post('/orders', bodyDeadline(clock, 10_000), express.json(), handler);
 * ```
 */
export function bodyDeadline(clock: Clock, timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const hasBody =
      req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || req.complete) {
      next();
      return;
    }
    const timer = clock.setTimeout(() => {
      if (req.complete || res.headersSent || res.destroyed) return;
      res.setHeader('Connection', 'close');
      res.once('finish', () => req.socket.destroy());
      sendProblem(
        res,
        new HttpProblem(
          408,
          'body-timeout',
          'Request body too slow',
          `Send the whole body within ${timeoutMs} ms`,
        ),
        req.originalUrl,
      );
    }, timeoutMs);
    const done = () => clock.clearTimeout(timer);
    req.once('end', done);
    res.once('close', done);
    next();
  };
}
